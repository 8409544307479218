"""PyTorch's own data-parallel train step, as bench:dist's ceiling: ResNet-50 with layer4 + fc
trainable (frozen BatchNorm below, as Histoscope's recipe), class-weighted cross-entropy, Adam 1e-4,
on random images already in memory, so no data pipeline and no validation are counted.
Configurations: one process x T threads; DistributedDataParallel (Gloo) in a world of 1 x T
threads; T ranks x 1 thread, each with global-batch / T images. Prints one JSON line per row.
Usage: python3 bench/dist_reference.py --batch 16 --image-size 224 --threads 2 --steps 6
"""
import argparse
import json
import os
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torchvision


def make_model():
    model = torchvision.models.resnet50(num_classes=2).to(memory_format=torch.channels_last)
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith("layer4") or name.startswith("fc"))
    return model


def train_steps(model, batch, size, steps, warmup=2):
    """Images per second of `steps` steps after `warmup`, for this process's `batch` images."""
    x = torch.randn(batch, 3, size, size).to(memory_format=torch.channels_last)
    y = torch.arange(batch) % 2
    weights = torch.tensor([1.0, 0.7])
    optimiser = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=1e-4)
    model.train()
    for m in model.modules():  # frozen BatchNorm stays in eval mode, as in Histoscope's recipe
        if isinstance(m, torch.nn.BatchNorm2d) and not any(p.requires_grad for p in m.parameters()):
            m.eval()
    started = None
    for step in range(warmup + steps):
        if step == warmup:
            started = time.perf_counter()
        optimiser.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x), y, weight=weights)
        loss.backward()
        optimiser.step()
    return steps * batch / (time.perf_counter() - started)


def rank_main(rank, world, args, port, results):
    torch.set_num_threads(args.threads if world == 1 else 1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)
    model = torch.nn.parallel.DistributedDataParallel(make_model(), bucket_cap_mb=25)
    rate = train_steps(model, args.batch // world, args.image_size, args.steps)
    dist.barrier()
    results[rank] = rate
    dist.destroy_process_group()


def distributed(world, args, port):
    with mp.Manager() as manager:
        results = manager.dict()
        mp.spawn(rank_main, args=(world, args, port, results), nprocs=world, join=True)
        # Ranks step together: the world's rate is the sum of its ranks'.
        return sum(results.values())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=6)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rows = [
        (f"PyTorch: 1 process x {args.threads} threads", train_steps(make_model(), args.batch, args.image_size, args.steps)),
        (f"PyTorch DDP: world of 1 (gloo) x {args.threads} threads", distributed(1, args, 29611)),
        (f"PyTorch DDP: {args.threads} ranks (gloo) x 1 thread", distributed(args.threads, args, 29612)),
    ]
    for name, rate in rows:
        print(json.dumps({"name": name, "imagesPerSecond": rate, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
