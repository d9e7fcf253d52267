"""A served model's FFN up-projection (MiniLM: hidden 384 -> 1536, GELU) at two sequence lengths: tune one,
then warm-start the other from its records (`litecoop bench-warm`)."""

import torch


class FeedForwardUp(torch.nn.Module):
    def forward(self, x, w):
        return torch.nn.functional.gelu(torch.matmul(x, w))


def _inputs(tokens: int):
    generator = torch.Generator().manual_seed(tokens)
    return torch.randn(tokens, 384, generator=generator), torch.randn(384, 1536, generator=generator) / 20


def tokens_64():
    return FeedForwardUp(), _inputs(64)


def tokens_128():
    return FeedForwardUp(), _inputs(128)
