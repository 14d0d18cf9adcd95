import { readFileSync } from 'node:fs';
import { expect } from 'chai';

const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

describe('error codes', function () {
  const sources = ['lib/errors.ts', 'schedulers/select.ts', 'schedulers/optional-dependency.ts']
    .map(read)
    .join('\n');
  const codes = [...new Set(sources.match(/'(?:EIO_ERR|SIO_ERR|MQ_ERR|ERR)_[A-Z_]+'/g) ?? [])].map(
    (c) => c.slice(1, -1),
  );

  it('finds the codes the sources define', function () {
    expect(codes).to.include.members([
      'EIO_ERR_UNKNOWN_SID',
      'SIO_ERR_PROTOCOL',
      'ERR_INVALID_OPTION',
      'ERR_ASYNC_MODE',
      'ERR_MISSING_PACKAGE',
      'MQ_ERR_PICKLE',
      'MQ_ERR_NOT_DELIVERED',
    ]);
  });

  it('documents every code in the README', function () {
    const readme = read('README.md');
    const missing = codes.filter((code) => !readme.includes(`\`${code}\``));
    expect(missing, 'codes missing from the README error table').to.deep.equal([]);
  });
});
