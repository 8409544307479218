"""PyTorch (Python) reference of the benchmark in bench/native.ts: the same recipe and sizes.

ResNet-50 (torchvision), 2-class head, layer4+fc trainable with frozen layers' BatchNorm in eval
mode, Adam lr 1e-4 / wd 1e-4, class-weighted cross-entropy, channels_last, ImageNet normalisation
from uint8 NHWC input, on-device flips per image for training. Inference and Grad-CAM are timed again with BatchNorm
folded into the convolutions and, for fp32 on CPU, the trunk's weights packed for oneDNN
(torch.utils.mkldnn), as Histoscope serves models. Prints one JSON object.

Usage: /usr/bin/python3 bench/reference.py --device cpu --precision fp32 --iterations 5 --threads 2
"""

import argparse
import copy
import json
import time

import torch
import torch.nn.functional as F
import torch.utils.mkldnn
import torchvision
from torch.nn.utils.fusion import fuse_conv_bn_eval

parser = argparse.ArgumentParser()
parser.add_argument("--device", default="cpu")
parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
parser.add_argument("--iterations", type=int, default=5)
parser.add_argument("--warmup", type=int, default=2)
parser.add_argument("--threads", type=int, default=0)
parser.add_argument("--batch", type=int, default=32)
parser.add_argument("--resident", action="store_true", help="the batch already on the device: the ceiling of a train step")
parser.add_argument("--train-only", action="store_true", help="time only the train step")
args = parser.parse_args()

if args.threads > 0:
    torch.set_num_threads(args.threads)
device = torch.device(args.device)
torch.manual_seed(0)
model = torchvision.models.resnet50(num_classes=2).to(device).to(memory_format=torch.channels_last)
for name, p in model.named_parameters():
    p.requires_grad = name.startswith("layer4.") or name.startswith("fc.")
optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=1e-4)
class_weights = torch.tensor([1.5, 0.75], device=device)
mean = torch.tensor([0.485, 0.456, 0.406], device=device).view(1, 3, 1, 1)
std = torch.tensor([0.229, 0.224, 0.225], device=device).view(1, 3, 1, 1)
autocast_dtype = torch.bfloat16 if args.precision == "bf16" else None


def sync():
    if device.type == "cuda":
        torch.cuda.synchronize()


def to_input(pixels):
    x = pixels.to(device).permute(0, 3, 1, 2).float().div_(255)
    return ((x - mean) / std).contiguous(memory_format=torch.channels_last)


def autocast():
    if autocast_dtype is None:
        return torch.autocast(device_type=device.type, enabled=False)
    return torch.autocast(device_type=device.type, dtype=autocast_dtype)


def train_mode():
    model.train()
    for m in [model.conv1, model.bn1, model.layer1, model.layer2, model.layer3]:
        m.eval()


def train_step(pixels, labels):
    train_mode()
    x = to_input(pixels)
    flips = torch.rand(x.shape[0], device=device) < 0.5
    x = torch.where(flips.view(-1, 1, 1, 1), x.flip(3), x)
    with autocast():
        logits = model(x)
    loss = F.cross_entropy(logits.float(), labels.to(device), weight=class_weights)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


# Set once BatchNorm is folded, for fp32 on CPU: the trunk with oneDNN-packed weights
# (torch.utils.mkldnn.to_mkldnn), as Histoscope serves such models.
packed_trunk = None


def trunk(x):
    m = packed_trunk if packed_trunk is not None else model
    if packed_trunk is not None:
        x = x.contiguous().to_mkldnn()
    t = m.maxpool(m.relu(m.bn1(m.conv1(x))))
    features = m.layer4(m.layer3(m.layer2(m.layer1(t))))
    return features.to_dense() if packed_trunk is not None else features


def predict(pixels):
    model.eval()
    with torch.no_grad(), autocast():
        features = trunk(to_input(pixels))
        return torch.softmax(model.fc(torch.flatten(model.avgpool(features), 1)).float(), 1).cpu()


def gradcam(pixels):
    # Trunk and head in the model's precision (as Histoscope's Grad-CAM and predict), the map in fp32.
    model.eval()
    x = to_input(pixels)
    with torch.no_grad(), autocast():
        features = trunk(x)
    features.requires_grad_(True)
    with autocast():
        logits = model.fc(torch.flatten(model.avgpool(features), 1)).float()
    target = int(logits[0].argmax())
    (grad,) = torch.autograd.grad(logits[0, target], features)
    grad, features = grad.float(), features.detach().float()
    cam = F.relu((grad.mean((2, 3), keepdim=True) * features).sum(1, keepdim=True))
    cam = F.interpolate(cam, size=pixels.shape[1:3], mode="bilinear", align_corners=False)
    cam = (cam - cam.min()) / (cam.max() - cam.min()).clamp_min(1e-12)
    return cam.cpu()


def timed(fn, iterations, warmup):
    for _ in range(warmup):
        fn()
    sync()
    start = time.perf_counter()
    for _ in range(iterations):
        fn()
    sync()
    return (time.perf_counter() - start) / iterations


g = torch.Generator().manual_seed(1)
batch = torch.randint(0, 256, (args.batch, 224, 224, 3), dtype=torch.uint8, generator=g)
labels = torch.arange(args.batch) % 2
if args.resident:
    batch, labels = batch.to(device), labels.to(device)
single = batch[:1]

train_s = timed(lambda: train_step(batch, labels), args.iterations, args.warmup)
if args.train_only:
    print(json.dumps({
        "implementation": f"PyTorch {torch.__version__} (Python), {'data on the device' if args.resident else 'data on the host'}",
        "threads": torch.get_num_threads(),
        "trainImagesPerSecond": args.batch / train_s,
    }))
    raise SystemExit(0)
infer_s = timed(lambda: predict(batch), args.iterations, args.warmup)
infer1_s = timed(lambda: predict(single), args.iterations * 4, args.warmup)
cam_s = timed(lambda: gradcam(single), args.iterations * 4, args.warmup)


def fold_batch_norm():
    # What a PyTorch user does for inference, and what Histoscope serves: each eval-mode BatchNorm
    # folded into the convolution before it (torch.nn.utils.fusion, in torch 1.13 and 2.x).
    model.eval()
    pairs = [(model, "conv1", "bn1")]
    for layer in [model.layer1, model.layer2, model.layer3, model.layer4]:
        for block in layer:
            pairs += [(block, "conv1", "bn1"), (block, "conv2", "bn2"), (block, "conv3", "bn3")]
            if block.downsample is not None:
                pairs.append((block.downsample, "0", "1"))
    with torch.no_grad():
        for owner, conv, bn in pairs:
            fused = fuse_conv_bn_eval(getattr(owner, conv), getattr(owner, bn))
            setattr(owner, conv, fused.to(memory_format=torch.channels_last))
            setattr(owner, bn, torch.nn.Identity())


fold_batch_norm()
if device.type == "cpu" and autocast_dtype is None and torch.backends.mkldnn.is_available():
    packed_trunk = torch.utils.mkldnn.to_mkldnn(copy.deepcopy(model))
folded_infer_s = timed(lambda: predict(batch), args.iterations, args.warmup)
folded_infer1_s = timed(lambda: predict(single), args.iterations * 4, args.warmup)
folded_cam_s = timed(lambda: gradcam(single), args.iterations * 4, args.warmup)
print(json.dumps({
    "implementation": f"PyTorch {torch.__version__} (Python)",
    "threads": torch.get_num_threads(),
    "trainImagesPerSecond": args.batch / train_s,
    "inferImagesPerSecond": args.batch / infer_s,
    "inferBatch1ImagesPerSecond": 1 / infer1_s,
    "gradcamMilliseconds": cam_s * 1000,
    "foldedInferImagesPerSecond": args.batch / folded_infer_s,
    "foldedInferBatch1ImagesPerSecond": 1 / folded_infer1_s,
    "foldedGradcamMilliseconds": folded_cam_s * 1000,
}))
