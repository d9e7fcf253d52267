"""A tuned artifact called at sequence lengths it was not tuned for, against torch: the max abs error per length.

    python benchmarks/shapes_unlisted.py runs/shapes-bert_ci/tuned --model bert_ci --lengths 50,100

The model is the zoo's (same seed, so the same weights); inputs are drawn like its examples (`workload.shapes`).
"""

import argparse

import numpy as np
import torch

import litecoop
from litecoop.workload import shapes, zoo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("artifact")
    parser.add_argument("--model", default="bert_ci", help="a text model of the zoo (input ids and mask)")
    parser.add_argument("--lengths", default="50,100")
    args = parser.parse_args()
    module, example = zoo.build(args.model, 0)
    fast = litecoop.load(args.artifact)
    for length in map(int, args.lengths.split(",")):
        inputs = shapes.inputs_at(example, [(1, length)] * len(example), seed=length)
        with torch.no_grad():
            reference = module(*(torch.from_numpy(x) for x in inputs)).numpy()
        print(f"sequence {length}: max abs error {np.abs(fast(*inputs) - reference).max():.2e}")


if __name__ == "__main__":
    main()
