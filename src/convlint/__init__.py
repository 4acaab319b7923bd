"""convlint: find 1-D convolution porting hazards between PyTorch, TensorFlow/Keras and
JAX/Flax, and confirm them numerically."""

__version__ = "0.1.0"
