"""Whisper-tiny's encoder self-attention core at its full 1500 frames: torch's scaled_dot_product_attention over 6
heads of 64, which torch.export decomposes into Q.K^T, a safe softmax and scores.V (`litecoop tune --workload
examples.attention.whisper:self_attention`)."""

import torch


class SelfAttention(torch.nn.Module):
    def forward(self, q, k, v):
        return torch.nn.functional.scaled_dot_product_attention(q, k, v)


def self_attention():
    generator = torch.Generator().manual_seed(0)
    return SelfAttention(), tuple(torch.randn(1, 6, 1500, 64, generator=generator) for _ in range(3))
