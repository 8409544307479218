// The commands that make a model for a magnification, named in every "no model" message so the
// reader knows what to run next. Kept in one place so it follows the training CLI if it changes.
import type { ModelSlot } from '../eval/model-card';

export function trainCommandHint(mag: ModelSlot): string {
  return `Train one with \`histoscope train --data BREAKHIS_FOLDER --mag ${mag}\`, then install it with \`histoscope promote RUN_FOLDER\`.`;
}
