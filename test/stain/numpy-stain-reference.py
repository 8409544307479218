# An independent numpy implementation of the stain maths Histoscope's native core does
# (native/core/stain/), written from the papers, for test/stain/stain-reference.test.ts.
# argv: request.json (written by the test), output folder. Exits 77 when numpy is missing.
import json
import sys

try:
    import numpy as np
except ImportError:
    sys.stderr.write("numpy is not installed for this interpreter\n")
    sys.exit(77)

def optical_density(rgb):
    # 8-bit intensities offset by one: black stays finite, white is 0.
    return -np.log((rgb * 255.0 + 1.0) / 256.0)


def macenko_fit(rgb):
    od = optical_density(rgb)
    tissue = np.all(od > 0.15, axis=1)  # Macenko's beta
    od_hat = od[tissue]
    _, vectors = np.linalg.eigh(np.cov(od_hat, rowvar=False))
    principal = vectors[:, 2] if vectors[:, 2].sum() >= 0 else -vectors[:, 2]
    second = vectors[:, 1] if vectors[:, 1][0] >= 0 else -vectors[:, 1]
    phi = np.arctan2(od_hat @ second, od_hat @ principal)
    lo, hi = np.percentile(phi, 1), np.percentile(phi, 99)
    v_lo = principal * np.cos(lo) + second * np.sin(lo)
    v_hi = principal * np.cos(hi) + second * np.sin(hi)
    h_vec, e_vec = (v_lo, v_hi) if v_lo[0] > v_hi[0] else (v_hi, v_lo)
    he = np.stack([h_vec, e_vec], axis=1)
    concentrations = np.linalg.lstsq(he, od.T, rcond=None)[0]
    max_c = np.percentile(concentrations, 99, axis=1)
    return he, max_c, concentrations, int(tissue.sum())


def macenko_apply(rgb, target_he, target_max):
    _, max_c, concentrations, _ = macenko_fit(rgb)
    od = (target_he @ (concentrations * (target_max / max_c)[:, None])).T
    return np.clip((np.exp(-od) * 256.0 - 1.0) / 255.0, 0, 1)


XYZ_FROM_RGB = np.array([[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]])
WHITE = np.array([0.95047, 1.0, 1.08883])


def rgb2lab(rgb):
    linear = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = linear @ XYZ_FROM_RGB.T / WHITE
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16.0 / 116.0)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1)


def lab2rgb(lab):
    fy = (lab[:, 0] + 16) / 116
    fx = lab[:, 1] / 500 + fy
    fz = np.maximum(fy - lab[:, 2] / 200, 0)
    f = np.stack([fx, fy, fz], axis=1)
    xyz = np.where(f > 0.2068966, f ** 3, (f - 16.0 / 116.0) / 7.787) * WHITE
    linear = np.maximum(xyz @ np.linalg.inv(XYZ_FROM_RGB).T, 0)
    rgb = np.where(linear > 0.0031308, 1.055 * linear ** (1 / 2.4) - 0.055, 12.92 * linear)
    return np.clip(rgb, 0, 1)


def reinhard_apply(rgb, mean, std):
    lab = rgb2lab(rgb)
    moved = (lab - lab.mean(0)) / lab.std(0) * std + mean
    return lab2rgb(moved)


RGB_FROM_HED = np.array([[0.65, 0.70, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]])


def hed(rgb):
    return -np.log(np.maximum(rgb, 1e-6)) @ np.linalg.inv(RGB_FROM_HED)


def main():
    request = json.load(open(sys.argv[1]))
    out_dir = sys.argv[2]
    n, h, w = request["n"], request["height"], request["width"]
    pixels = np.fromfile(request["pixels"], dtype=np.uint8).reshape(n, h * w, 3).astype(np.float64) / 255.0
    result = {"macenko": [], "reinhard": [], "jitter": None}
    mac_target = request["macenkoTarget"]
    target_he = np.array(mac_target[:6]).reshape(2, 3).T
    target_max = np.array(mac_target[6:8])
    rein = request["reinhardTarget"]
    for i in range(n):
        he, max_c, _, tissue = macenko_fit(pixels[i])
        result["macenko"].append({"stainMatrix": he.T.reshape(-1).tolist(), "maxConcentrations": max_c.tolist(), "tissue": tissue})
        macenko_apply(pixels[i], target_he, target_max).astype(np.float32).tofile(f"{out_dir}/macenko-{i}.f32")
        lab = rgb2lab(pixels[i])
        result["reinhard"].append({"mean": lab.mean(0).tolist(), "std": lab.std(0).tolist()})
        reinhard_apply(pixels[i], np.array(rein[:3]), np.array(rein[3:])).astype(np.float32).tofile(f"{out_dir}/reinhard-{i}.f32")

    # HED jitter: in HED space the jittered image must be an affine map (scale, shift) of the original
    # per stain, with scale in [1-s, 1+s] and shift in [-s, s]. Checked where neither image is clipped.
    jitter = request.get("jitter")
    if jitter:
        jittered = np.fromfile(jitter["file"], dtype=np.float32).reshape(n, h * w, 3).astype(np.float64)
        fits = []
        for i in range(n):
            ok = np.all((pixels[i] > 2 / 255) & (jittered[i] > 1e-4) & (jittered[i] < 1 - 1e-4), axis=1)
            before, after = hed(pixels[i][ok]), hed(jittered[i][ok])
            per_stain = []
            for c in range(3):
                design = np.stack([before[:, c], np.ones(ok.sum())], axis=1)
                (scale, shift), *_ = np.linalg.lstsq(design, after[:, c], rcond=None)
                residual = np.abs(design @ [scale, shift] - after[:, c]).max()
                per_stain.append({"scale": scale, "shift": shift, "residual": residual})
            fits.append({"pixels": int(ok.sum()), "stains": per_stain})
        result["jitter"] = fits

    json.dump(result, open(f"{out_dir}/result.json", "w"))


if __name__ == "__main__":
    main()
