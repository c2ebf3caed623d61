# Sourced by the bench scripts: prints the makertbin YAML for ../shared's MobileNetV2 (rgb NHWC
# uint8 at run time, trained on rgb NCHW with ImageNet mean/scale; docs/accuracy.md).
#   mobilenetv2_yaml SHARED CAL_DIR METHOD JOBS
mobilenetv2_yaml() {
  cat <<YAML
model_parameters:
  onnx_model: '$1/models/onnx/mobilenetv2-12-float.onnx'
  march: generic
  working_dir: model_output
  output_model_file_prefix: mobilenetv2
input_parameters:
  input_name: input
  input_shape: 1x3x224x224
  input_type_train: rgb
  input_layout_train: NCHW
  input_type_rt: rgb
  input_layout_rt: NHWC
  norm_type: data_mean_and_scale
  mean_value: 123.675 116.28 103.53
  scale_value: 0.017125 0.017507 0.017429
calibration_parameters:
  cal_data_dir: '$2'
  cal_data_type: uint8
  calibration_type: $3
compiler_parameters:
  jobs: $4
YAML
}
