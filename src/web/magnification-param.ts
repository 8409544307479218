// The `mag` parameter of a request: "100X", "100x" or "100" are accepted; when absent, a BreakHis
// file name decides. A name that disagrees with the choice is refused, as the CLI does, since the
// file name is the source of truth for an image's magnification. `pooled` (or `any`) asks for the
// pooled model trained on every magnification, which takes an image of any zoom.
import { type Magnification, MAGNIFICATIONS, normaliseMagnification } from '../data';
import { magnificationFor, type ModelSlot } from '../infer';
import { HttpError } from './http-error';

export function parseMagnification(raw: string): Magnification {
  const mag = normaliseMagnification(raw);
  if (!mag) throw new HttpError(400, `Unknown magnification "${raw.slice(0, 20)}". Choose ${MAGNIFICATIONS.join(', ')}.`);
  return mag;
}

const POOLED = /^\s*(pooled|any)\s*$/i;

/** A magnification, or `pooled` for the model of every magnification. */
export function parseSlot(raw: string): ModelSlot {
  return POOLED.test(raw) ? 'pooled' : parseMagnification(raw);
}

export function requestMagnification(raw: string | undefined, fileName: string | undefined): ModelSlot {
  if (raw !== undefined && POOLED.test(raw)) return 'pooled';
  const requested = raw === undefined || raw === '' ? undefined : parseMagnification(raw);
  const choice = magnificationFor(fileName ?? '', requested);
  if (!choice.ok) throw new HttpError(400, choice.error);
  return choice.magnification;
}
