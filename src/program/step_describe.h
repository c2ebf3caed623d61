// What a step parameter type's description is written with (program/step_params.h explains
// describe()): the concept that lets one function template serve the const writers and listers
// and the mutable reader. Included by each family's parameter header (src/steps/<folder>/).
#pragma once

#include <type_traits>

namespace qmap {

template <class P, class T>
concept ParamsOf = std::is_same_v<std::remove_const_t<P>, T>;

// `base` (a base class part of params p) with p's constness: for a description that describes
// its base first.
template <class Base, class P>
auto& as_base(P& p) {
  return static_cast<std::conditional_t<std::is_const_v<P>, const Base&, Base&>>(p);
}

}  // namespace qmap
