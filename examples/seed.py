"""The originating question (shared seed 000) in one file, as people post it:
the PyTorch code and its TensorFlow port side by side.

PyTorch prints 1/3/6, TensorFlow prints 2/6/12: the port dropped `groups`.
"""
import tensorflow as tf
import torch
import torch.nn.functional as F

# --- PyTorch ---
inputs = torch.Tensor([[[1, 1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3]]])  # batch_size x seq_length x embed_dim
inputs = inputs.transpose(2, 1)  # batch_size x embed_dim x seq_length
batch_size, embed_dim, seq_length = inputs.size()

kernel_size = 3
in_channels = 2
out_channels = in_channels
weight = torch.ones(out_channels, 1, kernel_size)

inputs = inputs.contiguous().view(-1, in_channels, seq_length)  # batch_size*embed_dim/in_channels x in_channels x seq_length
inputs = F.pad(inputs, (kernel_size - 1, 0), "constant", 0)
output = F.conv1d(inputs, weight, padding=0, groups=in_channels)
output = output.contiguous().view(batch_size, embed_dim, seq_length).transpose(2, 1)
print(output)

# --- TensorFlow port ---
inputs = tf.constant([[[1, 1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3]]], dtype=tf.float32)  # batch_size x seq_length x embed_dim
inputs = tf.transpose(inputs, perm=[0, 2, 1])
batch_size, embed_dim, seq_length = inputs.get_shape()

print(batch_size, seq_length, embed_dim)
kernel_size = 3
in_channels = 2
out_channels = in_channels
weight = tf.ones([kernel_size, in_channels, out_channels])

inputs = tf.reshape(inputs, [(batch_size * embed_dim) // in_channels, in_channels, seq_length], name="inputs")
inputs = tf.transpose(inputs, perm=[0, 2, 1])
padding = [[0, 0], [(kernel_size - 1), 0], [0, 0]]
padded = tf.pad(inputs, padding)

res = tf.nn.conv1d(padded, weight, 1, "VALID")
res = tf.transpose(res, perm=[0, 2, 1])
res = tf.reshape(res, [batch_size, embed_dim, seq_length])
res = tf.transpose(res, perm=[0, 2, 1])
print(res)
