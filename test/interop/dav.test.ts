/**
 * WebDAV interoperability with real clients from Debian against `/dav/files/<user>/` of an
 * in-process server (level store, loopback, ephemeral port):
 *   litmus   the basic, copymove, props, locks and http suites: 0 failures
 *   cadaver  a scripted session (credentials from a temporary ~/.netrc)
 *   curl     a scripted session of raw requests
 * Each test skips when its program is not installed (apt-get install litmus cadaver curl).
 */

import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDavFixture, type DavFixture } from '../protocols/dav/dav-fixture.ts';

function installed(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0;
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run a program without blocking the event loop (the server lives in this process). */
function run(
  program: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      program,
      args,
      {
        cwd: options.cwd,
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        if (err && typeof (err as { code?: unknown }).code !== 'number') {
          reject(err);
          return;
        }
        resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr });
      },
    );
    child.stdin?.end(options.input);
  });
}

describe('DAV interop (litmus, cadaver, curl)', function () {
  this.timeout(300_000);
  let f: DavFixture;
  let work: string;
  let home: string;

  before(async () => {
    f = await startDavFixture({ backend: 'level' });
    work = mkdtempSync(join(tmpdir(), 'commune-dav-interop-'));
    home = `${f.base}/dav/files/${f.alice.address}/`;
  });
  after(async () => {
    await f.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('passes litmus basic, copymove, props, locks and http with no failure', async function () {
    if (!installed('litmus')) this.skip();
    const suites = ['basic', 'copymove', 'props', 'locks', 'http'];
    const out = await run('litmus', ['--keep-going', home, f.alice.address, f.alice.password], {
      cwd: work,
      env: { ...process.env, TESTS: suites.join(' ') },
    });
    const text = out.stdout + out.stderr;
    for (const suite of suites) {
      const m = new RegExp(
        `summary for \`${suite}': of (\\d+) tests run: (\\d+) passed, (\\d+) failed`,
      ).exec(text);
      assert.ok(m, `litmus ${suite} did not run:\n${text}`);
      assert.equal(m[3], '0', `litmus ${suite} failures:\n${text}`);
      assert.equal(m[1], m[2]);
    }
    // Warnings are not failures; show them so they are seen
    const warnings = text.split('\n').filter((l) => /WARNING/.test(l));
    if (warnings.length > 0)
      process.stdout.write(
        `      litmus warnings:\n${warnings.map((w) => `        ${w.trim()}`).join('\n')}\n`,
      );
  });

  it('runs a scripted cadaver session', async function () {
    if (!installed('cadaver')) this.skip();
    const dir = mkdtempSync(join(work, 'cadaver-'));
    writeFileSync(
      join(dir, '.netrc'),
      `machine 127.0.0.1 login ${f.alice.address} password ${f.alice.password}\n`,
      { mode: 0o600 },
    );
    writeFileSync(join(dir, 'local.txt'), 'hello from cadaver\n');
    const script = [
      'mkcol cad',
      'cd cad',
      'put local.txt remote.txt',
      'propset remote.txt colour blue',
      'propget remote.txt colour',
      'copy remote.txt copy.txt',
      'move copy.txt moved.txt',
      'lock remote.txt',
      'unlock remote.txt',
      'get moved.txt fetched.txt',
      'delete moved.txt',
      'ls',
      'quit',
      '',
    ].join('\n');
    const out = await run('cadaver', ['-t', home], {
      cwd: dir,
      env: { ...process.env, HOME: dir },
      input: script,
      timeoutMs: 60_000,
    });
    const text = out.stdout + out.stderr;
    assert.ok(!/failed/i.test(text), text);
    assert.equal((text.match(/succeeded/g) ?? []).length, 10, text);
    assert.match(text, /Value of colour is: blue/);
    assert.match(text, /remote\.txt\s+19/);
    assert.ok(
      !/moved\.txt\s+\d/.test(text.slice(text.lastIndexOf('Listing'))),
      'moved.txt still listed',
    );
    assert.equal(readFileSync(join(dir, 'fetched.txt'), 'utf8'), 'hello from cadaver\n');
    // What cadaver did is visible over plain HTTP too
    const res = await f.request('GET', `/dav/files/${f.alice.address}/cad/remote.txt`);
    assert.equal(await res.text(), 'hello from cadaver\n');
  });

  it('runs a scripted curl session', async function () {
    if (!installed('curl')) this.skip();
    const user = `${f.alice.address}:${f.alice.password}`;
    const upload = join(work, 'upload.bin');
    writeFileSync(upload, Buffer.from('0123456789abcdef'));
    const curl = async (
      args: string[],
    ): Promise<{ status: number; body: string; headers: string }> => {
      const headersFile = join(work, 'headers.txt');
      const out = await run('curl', [
        '-sS',
        '-u',
        user,
        '-D',
        headersFile,
        '-o',
        '-',
        '-w',
        '\n%{http_code}',
        ...args,
      ]);
      assert.equal(out.code, 0, out.stderr);
      const cut = out.stdout.lastIndexOf('\n');
      return {
        status: Number(out.stdout.slice(cut + 1)),
        body: out.stdout.slice(0, cut),
        headers: readFileSync(headersFile, 'utf8'),
      };
    };
    const steps: { args: string[]; status: number; body?: RegExp; headers?: RegExp }[] = [
      { args: ['-X', 'OPTIONS', home], status: 200, headers: /^dav: 1, 2, 3/im },
      { args: ['-X', 'MKCOL', `${home}curl/`], status: 201 },
      {
        args: ['-T', upload, '-H', 'Content-Type: application/x-test', `${home}curl/data.bin`],
        status: 201,
        headers: /^etag: "/im,
      },
      {
        args: [`${home}curl/data.bin`],
        status: 200,
        body: /^0123456789abcdef$/,
        headers: /^content-type: application\/x-test/im,
      },
      {
        args: ['-r', '4-7', `${home}curl/data.bin`],
        status: 206,
        body: /^4567$/,
        headers: /^content-range: bytes 4-7\/16/im,
      },
      {
        args: [
          '-X',
          'PROPFIND',
          '-H',
          'Depth: 1',
          '-H',
          'Content-Type: application/xml',
          '--data',
          '<propfind xmlns="DAV:"><prop><getcontentlength/><resourcetype/></prop></propfind>',
          `${home}curl/`,
        ],
        status: 207,
        body: /<d:getcontentlength>16<\/d:getcontentlength>/,
      },
      {
        args: ['-X', 'PROPFIND', '-H', 'Depth: infinity', home],
        status: 403,
        body: /propfind-finite-depth/,
      },
      {
        args: [
          '-X',
          'PROPPATCH',
          '-H',
          'Content-Type: application/xml',
          '--data',
          '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:tag xmlns:x="urn:x">t1</x:tag></D:prop></D:set></D:propertyupdate>',
          `${home}curl/data.bin`,
        ],
        status: 207,
        body: /200 OK/,
      },
      {
        args: ['-X', 'COPY', '-H', `Destination: ${home}curl/copy.bin`, `${home}curl/data.bin`],
        status: 201,
      },
      {
        args: [
          '-X',
          'MOVE',
          '-H',
          `Destination: ${home}curl/moved.bin`,
          '-H',
          'Overwrite: F',
          `${home}curl/copy.bin`,
        ],
        status: 201,
      },
      {
        args: [
          '-X',
          'MOVE',
          '-H',
          `Destination: ${home}curl/moved.bin`,
          '-H',
          'Overwrite: F',
          `${home}curl/data.bin`,
        ],
        status: 412,
      },
      { args: ['-X', 'DELETE', `${home}curl/moved.bin`], status: 204 },
      { args: [`${home}curl/moved.bin`], status: 404 },
      { args: ['-X', 'DELETE', `${home}curl/`], status: 204 },
      {
        args: ['-u', `${f.alice.address}:wrong`, home],
        status: 401,
        headers: /^www-authenticate: Basic realm="Commune"/im,
      },
    ];
    for (const step of steps) {
      const res = await curl(step.args);
      const what = `curl ${step.args.join(' ')}`;
      assert.equal(res.status, step.status, `${what}\n${res.headers}${res.body}`);
      if (step.body) assert.match(res.body, step.body, what);
      if (step.headers) assert.match(res.headers, step.headers, what);
    }
    // A LOCK, a refused write without the token, a write with it, UNLOCK
    const lockinfo =
      '<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>curl</D:owner></D:lockinfo>';
    const lock = await curl([
      '-X',
      'LOCK',
      '-H',
      'Content-Type: application/xml',
      '-H',
      'Timeout: Second-60',
      '--data',
      lockinfo,
      `${home}locked.txt`,
    ]);
    assert.equal(lock.status, 201);
    const token = /^lock-token: <([^>]+)>/im.exec(lock.headers)?.[1];
    assert.ok(token);
    assert.equal((await curl(['-T', upload, `${home}locked.txt`])).status, 423);
    assert.equal(
      (await curl(['-T', upload, '-H', `If: (<${token}>)`, `${home}locked.txt`])).status,
      204,
    );
    assert.equal(
      (await curl(['-X', 'UNLOCK', '-H', `Lock-Token: <${token}>`, `${home}locked.txt`])).status,
      204,
    );
  });
});
