// Which model an input file goes to. The BreakHis file name is the source of truth for an image's
// magnification (DESIGN.md), so a name that disagrees with --mag is refused for that file rather
// than silently run through a model trained at another zoom.
import * as path from 'node:path';

import { type Magnification, parseBreakhisName } from '../data';

export type MagnificationChoice = { ok: true; magnification: Magnification } | { ok: false; error: string };

export function magnificationFor(file: string, requested: Magnification | undefined): MagnificationChoice {
  const parsed = parseBreakhisName(path.basename(file));
  const fromName = parsed.ok ? parsed.name.magnification : undefined;
  if (fromName && requested && fromName !== requested) {
    return {
      ok: false,
      error: `The file name says ${fromName} but ${requested} was requested; the ${requested} model was not applied. ` +
        `Choose ${fromName}, or rename the file if its name is wrong.`,
    };
  }
  const magnification = requested ?? fromName;
  if (!magnification) {
    return { ok: false, error: 'The magnification is unknown: the file name is not a BreakHis name, so choose one (40X, 100X, 200X or 400X).' };
  }
  return { ok: true, magnification };
}
