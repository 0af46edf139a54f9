package io.stepcast.model;

/** The ONNX Runtime execution provider a step model runs on. */
public enum ExecutionProvider {
  /** The default CPU provider, available in every ONNX Runtime build. */
  CPU,
  /** NVIDIA CUDA; needs the {@code onnxruntime_gpu} jar (build with {@code -Pcuda}) and a GPU. */
  CUDA
}
