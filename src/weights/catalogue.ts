// torchvision's ResNet-50 ImageNet weight files: where torchvision publishes them, the names it
// gives them and their sha256. torchvision names each file after the first 8 hex digits of its
// sha256 (torch.hub's check_hash); it does not publish the whole digest. The full values below
// are what many independent projects record for these files (each begins with torchvision's
// prefix, and the byte sizes agree), so a download is checked on all 64 digits, not just 8.

/** Where torchvision publishes them (torchvision/models/resnet.py, ResNet50_Weights). */
export const TORCHVISION_MODELS_URL = 'https://download.pytorch.org/models/';

export interface WeightsEntry {
  /** What users type: `histoscope weights fetch imagenet-v1`. */
  id: string;
  /** torchvision's file name, so a torch hub cache can be shared. */
  file: string;
  /** torchvision's enum member. */
  torchvisionName: string;
  sha256: string;
  bytes: number;
  description: string;
}

export const IMAGENET_WEIGHTS: readonly WeightsEntry[] = [
  {
    id: 'imagenet-v1', file: 'resnet50-0676ba61.pth', torchvisionName: 'ResNet50_Weights.IMAGENET1K_V1',
    sha256: '0676ba61b6795bbe1773cffd859882e5e297624d384b6993f7c9e683e722fb8a', bytes: 102_530_333,
    description: 'the weights the study fine-tuned (ImageNet top-1 76.1%)',
  },
  {
    id: 'imagenet-v2', file: 'resnet50-11ad3fa6.pth', torchvisionName: 'ResNet50_Weights.IMAGENET1K_V2',
    sha256: '11ad3fa62ca79e40addfd354a8ec4b7c75143b3038b8d2a807fbc68deab379ca', bytes: 102_540_417,
    description: 'torchvision\'s newer recipe (ImageNet top-1 80.9%)',
  },
];

export const WEIGHTS_IDS = IMAGENET_WEIGHTS.map((e) => e.id);

/**
 * Where a file is downloaded from: torchvision's server, or a mirror of it named by
 * `$HISTOSCOPE_WEIGHTS_MIRROR` (a lab's internal copy). The hash checked stays the entry's.
 */
export function weightsUrl(entry: WeightsEntry, env: NodeJS.ProcessEnv = process.env): string {
  const mirror = env.HISTOSCOPE_WEIGHTS_MIRROR?.trim();
  if (!mirror) return new URL(entry.file, TORCHVISION_MODELS_URL).toString();
  let base: URL | null = null;
  try {
    base = new URL(mirror.endsWith('/') ? mirror : mirror + '/');
  } catch {
    // reported below
  }
  if (!base || (base.protocol !== 'http:' && base.protocol !== 'https:')) {
    throw new Error(`Expected an http(s) URL such as https://mirror.example.org/models/ for HISTOSCOPE_WEIGHTS_MIRROR but received '${mirror}'.`);
  }
  return new URL(entry.file, base).toString();
}
