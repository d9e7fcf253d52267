"""A user workload in the `module:function` form: a small matmul + ReLU as a torch module."""

import torch


class MatMulReLU(torch.nn.Module):
    def forward(self, a, b):
        return torch.relu(torch.matmul(a, b))


def make():
    generator = torch.Generator().manual_seed(0)
    return MatMulReLU(), (torch.randn(64, 128, generator=generator), torch.randn(128, 96, generator=generator))


def make_taller():
    """The same operator with twice the rows and 80 columns: a similar shape for warm-start tests."""
    generator = torch.Generator().manual_seed(1)
    return MatMulReLU(), (torch.randn(128, 128, generator=generator), torch.randn(128, 80, generator=generator))


def make_linear():
    """A linear layer: its weight is a constant of the imported module, so the build may prepack it."""
    torch.manual_seed(0)
    return torch.nn.Linear(128, 96), (torch.randn(64, 128),)


def make_two_layers():
    """Two matmul + ReLU layers of other shapes (64x128x96, then 64x96x80): two tasks with the same sketch."""
    generator = torch.Generator().manual_seed(2)
    layer = MatMulReLU()

    class TwoLayers(torch.nn.Module):
        def forward(self, a, b, c):
            return layer(layer(a, b), c)

    shapes = ((64, 128), (128, 96), (96, 80))
    return TwoLayers(), tuple(torch.randn(*shape, generator=generator) for shape in shapes)
