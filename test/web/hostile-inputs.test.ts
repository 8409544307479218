// A hostile-input corpus for the web API and form, generated here (bounded, loopback only):
// broken, mistyped, oversized and lying requests. None may get a 5xx, a stack trace or a server
// path, every refusal is a sentence, and the server keeps serving.
import { expect } from 'chai';
import sharp from 'sharp';

import { ModelRegistry } from '../../src/infer';
import { breakhisName, installModel, tissuePng, tmpDir } from '../infer/model-fixture';
import { listen, multipart, pngDeclaring, postImage, rawExchange, type Running } from './http-helpers';

type Part = Parameters<typeof multipart>[0][number];

const file = (data: Buffer, name = 'slide.png', field = 'image'): Part => ({ name: field, file: { name, type: 'image/png', data } });
const field = (name: string, value: string): Part => ({ name, value });

/** A multipart body with one part written by hand (for headers multipart() would not write). */
function handMadeForm(partHead: string, data: Buffer): { body: Buffer; type: string } {
  const boundary = 'hostile0boundary';
  const body = Buffer.concat([Buffer.from(`--${boundary}\r\n${partHead}\r\n\r\n`), data, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  return { body, type: `multipart/form-data; boundary=${boundary}` };
}

describe('hostile inputs: web API and form', () => {
  let registry: ModelRegistry;
  let server: Running;
  let good: Buffer;
  let jpeg: Buffer;

  before(async () => {
    const modelsDir = tmpDir('hostile-web-models');
    await installModel(modelsDir, '100X');
    await installModel(modelsDir, '400X');
    registry = new ModelRegistry({ modelsDir });
    server = await listen({ registry, maxUploadBytes: 512 * 1024 });
    good = await tissuePng(90, 60, 6);
    jpeg = await sharp(good).jpeg().toBuffer();
  });
  after(async () => {
    await server.close();
    registry.dispose();
  });

  const api = (parts: Part[], query = ''): Promise<{ status: number; json: Record<string, unknown> }> => {
    const form = multipart(parts);
    return postImage(`${server.url}/api/predict${query}`, form.body, form.type);
  };
  const raw = (body: Buffer, type: string, query = '?mag=100X'): Promise<{ status: number; json: Record<string, unknown> }> =>
    postImage(`${server.url}/api/predict${query}`, body, type);

  // [name, expected status (or statuses), message pattern, request]
  const corpus: [string, number | number[], RegExp, () => Promise<{ status: number; json: Record<string, unknown> }>][] = [
    // broken
    ['PNG cut after its header', 422, /damaged/, () => raw(good.subarray(0, 60), 'image/png')],
    ['JPEG cut in half', 422, /damaged/, () => raw(jpeg.subarray(0, jpeg.length >> 1), 'image/jpeg')],
    ['PNG signature only', 422, /damaged/, () => raw(good.subarray(0, 8), 'image/png')],
    ['random bytes', 415, /not an image this program recognises/, () => raw(Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)), 'image/png')],
    ['multipart body that ends mid-file', 400, /malformed or incomplete/, () => postImage(`${server.url}/api/predict?mag=100X`,
      Buffer.from('--b\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n\x89PNG\r\n\x1a\n'), 'multipart/form-data; boundary=b')],
    ['multipart without a boundary', 400, /boundary is missing/, () => raw(good, 'multipart/form-data')],
    // mistyped
    ['SVG with a script, named .png', 415, /an SVG drawing/, () => api([field('mag', '100X'),
      file(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'))])],
    ['GIF named .png', 415, /a GIF image/, () => api([field('mag', '100X'), file(Buffer.from('GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;', 'latin1'))])],
    ['BMP', 415, /a BMP image/, () => raw(Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)]), 'image/bmp')],
    ['TIFF', 415, /a TIFF image/, () => raw(Buffer.from([0x49, 0x49, 0x2a, 0, 8, 0, 0, 0, 0, 0]), 'image/tiff')],
    ['PDF named .png', 415, /text file|not an image/, () => api([field('mag', '100X'), file(Buffer.from('%PDF-1.4\n%\xe2\xe3\n1 0 obj\n', 'latin1'))])],
    ['form-urlencoded', 415, /multipart form field named "image"/, () => raw(Buffer.from('image=abc&mag=100X'), 'application/x-www-form-urlencoded')],
    ['image sent as a text field', 400, /the field "image" holds text, not a file/, () => api([field('mag', '100X'), field('image', 'iVBORw0KGgo=')])],
    ['file in another field', 400, /No image was uploaded in the field "image": the file came in the field "upload"/, () => api([field('mag', '100X'), file(good, 'a.png', 'upload')])],
    // oversized
    ['PNG declaring 50000 × 50000 pixels', 413, /50000 × 50000 pixels/, () => raw(pngDeclaring(50000, 50000), 'image/png')],
    ['PNG declaring 4294967295 × 1 pixels', [413, 422], /pixels|damaged/, () => raw(pngDeclaring(0xffffffff, 1), 'image/png')],
    ['body over the cap', 413, /larger than this server's limit of 0\.5 MB/, () => raw(Buffer.alloc(600 * 1024, 3), 'image/png')],
    ['form field over 1024 characters', 400, /The field "mag" is longer than 1024 characters/, () => api([field('mag', '1'.repeat(2000)), file(good)])],
    ['too many form fields', 400, /The form has more than 8 fields; this server reads only "image", "mag", "gradcam", "method" and "explain"\./,
      () => api([...Array.from({ length: 9 }, (_, i) => field(`note${i}`, 'x')), file(good)])],
    ['two files', 400, /The form holds more than one file; send one image per request\./, () => api([field('mag', '100X'), file(good), file(good, 'b.png')])],
    // lying
    ['repeated mag field', 400, /The field "mag" was sent more than once; send it once\./, () => api([field('mag', '100X'), field('mag', '400X'), file(good)])],
    ['mag[] field', 400, /The field "mag\[\]" is a list, but this server takes one value: send it once, as the field "mag"\./, () => api([field('mag[]', '100X'), file(good)])],
    ['repeated mag in the query', 400, /The field "mag" was sent more than once/, () => raw(good, 'image/png', '?mag=100X&mag=400X')],
    ['mag[] in the query', 400, /The field "mag\[\]" is a list/, () => raw(good, 'image/png', '?mag[]=100X')],
    ['file name with a raw quote', 400, /malformed Content-Disposition header \(for example a file name containing a raw " character\)/, () => {
      const form = handMadeForm('Content-Disposition: form-data; name="image"; filename="slide"1.png"\r\nContent-Type: image/png', good);
      return postImage(`${server.url}/api/predict?mag=100X`, form.body, form.type);
    }],
    ['file name that climbs folders', 200, /./, () => api([field('mag', '100X'), file(good, '../../../../etc/passwd.png')])],
    ['BreakHis name contradicting mag', 400, /file name says 400X but 100X was requested/, () => api([field('mag', '100X'), file(good, breakhisName('400X'))])],
    ['JPEG sent as image/png', 200, /./, () => raw(jpeg, 'image/png')],
    ['unknown magnification', 400, /Unknown magnification/, () => raw(good, 'image/png', '?mag=%00%ff')],
    ['magnification without a model', 404, /No model is installed for 40X/, () => raw(good, 'image/png', '?mag=40X')],
  ];

  for (const [name, status, message, send] of corpus) {
    it(name, async () => {
      const r = await send();
      expect([status].flat(), JSON.stringify(r.json).slice(0, 300)).to.include(r.status);
      const text = JSON.stringify(r.json);
      expect(text).not.to.match(/\/tmp\/|\/work\/|node_modules|\bat \w+ \(|Error:|passwd/);
      if (r.status !== 200) {
        expect(String(r.json.error)).to.match(message).and.match(/^[A-Z].*\.$/);
      }
    });
  }

  it('a body longer than its Content-Length, and a header-only flood, get 4xx and the server keeps serving', async () => {
    const liar = await rawExchange(server.url, 'POST /api/predict?mag=100X HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 10\r\n\r\n',
      Buffer.concat([good.subarray(0, 10), Buffer.from('GARBAGE THAT IS NOT HTTP\r\n\r\n')]), 5000);
    expect(liar.reply).to.match(/^HTTP\/1\.1 4\d\d /);
    expect(liar.reply).not.to.match(/HTTP\/1\.1 5\d\d/);
    const flood = await rawExchange(server.url, `GET / HTTP/1.1\r\nHost: x\r\n${'X-Pad: y\r\n'.repeat(3000)}\r\n`, undefined, 5000);
    expect(flood.reply).to.match(/^HTTP\/1\.1 431 /);
  });

  it('after the whole corpus it still predicts', async () => {
    const r = await raw(good, 'image/png');
    expect(r.status).to.equal(200);
  });

  it('the form says what went wrong and keeps the magnification that was submitted', async () => {
    for (const mag of ['400X', '200X']) {
      const form = multipart([field('mag', mag), file(Buffer.from('GIF89a', 'latin1'))]);
      const res = await fetch(`${server.url}/`, { method: 'POST', body: form.body, headers: { 'content-type': form.type } });
      expect(res.status).to.equal(415);
      const html = await res.text();
      expect(html).to.match(/id="error"><strong>Not analysed\.<\/strong> The uploaded file is a GIF image/);
      expect(html, mag).to.match(new RegExp(`<option value="${mag}"\\s+selected>`));
      expect(html.match(/<option value="\d+X"\s+selected>/g)).to.have.length(1);
    }
    const repeated = multipart([field('mag', '400X'), field('mag', '400X'), file(good)]);
    const page = await (await fetch(`${server.url}/`, { method: 'POST', body: repeated.body, headers: { 'content-type': repeated.type } })).text();
    expect(page, page.slice(page.indexOf('id="error"'), page.indexOf('id="error"') + 300)).to.match(/The field &#34;mag&#34; was sent more than once/);
  });
});
