"""PyTorch (Python) reference pipeline for bench/train.ts: training epochs end to end on the same
PNG files with the study's recipe, the way a PyTorch user writes it: a Dataset reading PNGs with
PIL, torchvision transforms (resize to 224x224, random horizontal/vertical flips, random
right-angle rotation, ToTensor, ImageNet normalisation), a DataLoader with worker processes
(persistent, pin_memory on CUDA), ResNet-50 with layer4+fc trainable (frozen layers' BatchNorm in
eval mode), Adam 1e-4 / wd 1e-4, class-weighted cross-entropy, channels_last, bf16 autocast when
asked. Prints one JSON object with each epoch's time.

Usage: /usr/bin/python3 bench/train_reference.py FILES.json --batch 32 --workers 2 --threads 2 \
         --device cpu --precision fp32 --epochs 3
FILES.json: [{"path": "/abs/file.png", "label": 0 | 1}, ...]
"""

import argparse
import json
import random
import time

import torch
import torch.nn.functional as F
import torchvision
from PIL import Image
from torchvision import transforms

parser = argparse.ArgumentParser()
parser.add_argument("files")
parser.add_argument("--batch", type=int, default=32)
parser.add_argument("--workers", type=int, default=2)
parser.add_argument("--threads", type=int, default=0)
parser.add_argument("--device", default="cpu")
parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
parser.add_argument("--epochs", type=int, default=1)
args = parser.parse_args()
device = torch.device(args.device)
if args.threads > 0:
    torch.set_num_threads(args.threads)
torch.manual_seed(0)
random.seed(0)

items = json.load(open(args.files))


class RandomRightAngle:
    def __call__(self, x):
        return torch.rot90(x, random.randint(0, 3), dims=(1, 2))


transform = transforms.Compose([
    transforms.Resize((224, 224)),
    transforms.RandomHorizontalFlip(),
    transforms.RandomVerticalFlip(),
    transforms.ToTensor(),
    RandomRightAngle(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])


class PngDataset(torch.utils.data.Dataset):
    def __len__(self):
        return len(items)

    def __getitem__(self, i):
        with Image.open(items[i]["path"]) as image:
            return transform(image.convert("RGB")), items[i]["label"]


model = torchvision.models.resnet50(num_classes=2).to(device).to(memory_format=torch.channels_last)
for name, p in model.named_parameters():
    p.requires_grad = name.startswith("layer4.") or name.startswith("fc.")
optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=1e-4)
counts = [sum(1 for it in items if it["label"] == c) for c in (0, 1)]
class_weights = torch.tensor([len(items) / (2 * max(1, c)) for c in counts], device=device)
cuda = device.type == "cuda"


def autocast():
    if args.precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return torch.autocast(device_type=device.type, enabled=False)


loader = torch.utils.data.DataLoader(PngDataset(), batch_size=args.batch, shuffle=True, num_workers=args.workers,
                                     pin_memory=cuda, persistent_workers=args.workers > 0)
model.train()
for m in [model.conv1, model.bn1, model.layer1, model.layer2, model.layer3]:
    m.eval()
epochs = []
for epoch in range(args.epochs):
    start = time.perf_counter()
    seen = 0
    for x, y in loader:
        x = x.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
        y = y.to(device, non_blocking=True)
        with autocast():
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y, weight=class_weights)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seen += len(y)
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    epochs.append({"epoch": epoch + 1, "seconds": seconds, "imagesPerSecond": seen / seconds})
print(json.dumps({
    "implementation": f"PyTorch {torch.__version__} + torchvision {torchvision.__version__} (DataLoader, {args.workers} workers)",
    "epochs": epochs,
}))
