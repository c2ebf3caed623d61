// qmap command-line entry point.
#include <cstdio>

int main(int argc, char** argv) {
  std::puts("qmap " QMAP_VERSION);
  return 0;
}
