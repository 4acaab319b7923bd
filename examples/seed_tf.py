"""The TensorFlow port from the originating question (shared seed 000), as asked.

The filter is built as [kernel_size, in_channels, out_channels]: every output channel
sums over every input channel, so the grouping of the torch side is lost.
Output: [[2, 2, 2, 2], [6, 6, 6, 6], [12, 12, 12, 12]], not the torch 1/3/6.
"""
import tensorflow as tf

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
