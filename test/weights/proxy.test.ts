// Proxy selection from the environment, as curl reads it.
import { expect } from 'chai';
import { bypassesProxy, describeProxy, proxyAuthorization, proxyFor } from '../../src/weights/proxy';

describe('weights proxy settings', () => {
  const https = new URL('https://download.pytorch.org/models/resnet50-0676ba61.pth');
  const http = new URL('http://mirror.lab.example:8080/models/x.pth');

  it('takes HTTPS_PROXY for https and HTTP_PROXY for http, lower-case names first', () => {
    expect(proxyFor(https, {})).to.equal(null);
    expect(proxyFor(https, { HTTPS_PROXY: 'http://proxy:3128' })?.href).to.equal('http://proxy:3128/');
    expect(proxyFor(https, { HTTP_PROXY: 'http://proxy:3128' })).to.equal(null);
    expect(proxyFor(http, { HTTP_PROXY: 'http://p1:1', http_proxy: 'http://p2:2' })?.host).to.equal('p2:2');
    expect(proxyFor(https, { https_proxy: 'proxy.lab:3128' })?.href).to.equal('http://proxy.lab:3128/');
  });

  it('honours NO_PROXY: *, domains with or without a leading dot, IPs, ports', () => {
    expect(bypassesProxy(https, '*')).to.equal(true);
    expect(bypassesProxy(https, 'pytorch.org')).to.equal(true);
    expect(bypassesProxy(https, '.pytorch.org')).to.equal(true);
    expect(bypassesProxy(https, 'torch.org')).to.equal(false);
    expect(bypassesProxy(https, 'localhost, 127.0.0.1')).to.equal(false);
    expect(bypassesProxy(http, 'mirror.lab.example:8080')).to.equal(true);
    expect(bypassesProxy(http, 'mirror.lab.example:80')).to.equal(false);
    expect(bypassesProxy(new URL('http://127.0.0.1:9/x'), 'localhost,127.0.0.1')).to.equal(true);
    expect(proxyFor(https, { HTTPS_PROXY: 'http://proxy:3128', no_proxy: '.pytorch.org' })).to.equal(null);
  });

  it('sends credentials from the proxy URL but never names the password', () => {
    const proxy = proxyFor(https, { HTTPS_PROXY: 'http://ana:s%40cret@proxy:3128' })!;
    expect(proxyAuthorization(proxy)).to.equal(`Basic ${Buffer.from('ana:s@cret').toString('base64')}`);
    expect(describeProxy(proxy)).to.equal('http://proxy:3128');
    expect(proxyAuthorization(proxyFor(https, { HTTPS_PROXY: 'http://proxy:3128' })!)).to.equal(undefined);
  });

  it('refuses proxy URLs it cannot use, naming the variable', () => {
    expect(() => proxyFor(https, { HTTPS_PROXY: 'socks5://proxy:1080' })).to.throw(/Only http:\/\/ proxies .*HTTPS_PROXY/);
    expect(() => proxyFor(https, { HTTPS_PROXY: 'http://[bad' })).to.throw(/Expected a proxy URL .*HTTPS_PROXY/);
  });
});
