// A minimal well-formedness check for the SVG strings the plots produce (no XML parser is
// installed): balanced tags, quoted attributes, no raw "<" or unescaped "&" in text.
const TAG = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
const ENTITY = /^&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/;

export function assertWellFormedSvg(svg: string): void {
  if (!svg.startsWith('<svg')) throw new Error('SVG does not start with <svg');
  const stack: string[] = [];
  let i = 0;
  let roots = 0;
  while (i < svg.length) {
    const ch = svg[i];
    if (ch === '<') {
      TAG.lastIndex = i;
      const m = TAG.exec(svg);
      if (!m) throw new Error(`Malformed tag at offset ${i}: ${svg.slice(i, i + 60)}`);
      const [whole, closing, name, , selfClosing] = m;
      if (closing) {
        const open = stack.pop();
        if (open !== name) throw new Error(`Closing </${name}> at offset ${i} does not match <${open}>`);
      } else {
        if (stack.length === 0) roots++;
        if (!selfClosing) stack.push(name);
      }
      i += whole.length;
    } else {
      if (ch === '&' && !ENTITY.test(svg.slice(i, i + 12))) throw new Error(`Unescaped & at offset ${i}`);
      if (stack.length === 0 && !/\s/.test(ch)) throw new Error(`Text outside the root element at offset ${i}`);
      i++;
    }
  }
  if (stack.length !== 0) throw new Error(`Unclosed elements: ${stack.join(', ')}`);
  if (roots !== 1) throw new Error(`Expected one root element but found ${roots}`);
}
