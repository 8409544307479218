// The `method` parameter: which class-activation map to draw. In a URL query a literal "+" means a
// space, so `?method=gradcam++` arrives as "gradcam  " and would silently become plain Grad-CAM if
// trimmed: that spelling is read as Grad-CAM++, and so are `gradcampp` and `gradcam%2B%2B`.
import { CAM_METHODS, type CamMethod } from '../native';
import { HttpError } from './http-error';

const ALIASES: Record<string, CamMethod> = {
  'gradcam': 'gradcam', 'grad-cam': 'gradcam',
  'gradcam++': 'gradcam++', 'gradcam  ': 'gradcam++', 'gradcampp': 'gradcam++', 'grad-cam++': 'gradcam++', 'grad-cam  ': 'gradcam++',
};

export function parseCamMethod(raw: string | undefined): CamMethod {
  if (raw === undefined || raw === '') return 'gradcam';
  const method = ALIASES[raw.toLowerCase()];
  if (!method) {
    throw new HttpError(400, `Unknown explanation method "${raw.slice(0, 20)}". Choose ${CAM_METHODS.join(' or ')} ` +
      '(in a URL, gradcampp or gradcam%2B%2B).');
  }
  return method;
}
