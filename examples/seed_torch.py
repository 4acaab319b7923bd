"""The PyTorch side of the originating question (shared seed 000), as asked.

A depthwise (groups=in_channels) causal conv1d: each output channel sees only its own
input channel. Output: [[1, 1, 1, 1], [3, 3, 3, 3], [6, 6, 6, 6]].
"""
import torch
import torch.nn.functional as F

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
