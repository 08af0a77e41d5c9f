import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createApiDispatcher, type DialogProvider } from '../../src-main/ipc/handlers.ts';
import { CallError } from '../../src-shared/contract/errors.ts';
import { PathGrants } from '../../src-main/ipc/grants.ts';
import { channelOf } from '../../src-main/ipc/channels.ts';
import { INVOKE_METHODS, type InvokeMethod } from '../../src-shared/contract/methods.ts';
import { argSchemas } from '../../src-shared/contract/args.ts';
import { fakeStudio } from './fake-studio.ts';

const exportReq = {
  resultId: 'r1', strength: 1, protectSharp: false, format: 'jpeg', quality: 90, bitDepth: 8, path: '/out/a.jpg', overwrite: false,
};
const batchReq = {
  inputDir: '/in', outputDir: '/out', recursive: true, format: 'png', quality: 90, suffix: '-sharp', skipExisting: true,
  strength: 1, protectSharp: true,
};
const adaptReq = { blurryDir: '/in', sharpDir: '/sharp', name: 'My camera', minutes: 5 };

interface Case {
  good: unknown[];
  wrongType: unknown[];
  missing: unknown[];
  /** Arguments with a path that is not granted (only for methods that take paths). */
  ungranted?: unknown[];
}

const cases: Record<InvokeMethod, Case> = {
  systemInfo: { good: [], wrongType: [42], missing: [undefined] },
  updateSettings: { good: [{ threads: 4 }], wrongType: [{ threads: 'four' }], missing: [] },
  showOpenDialog: { good: [], wrongType: ['x'], missing: [undefined] },
  showFolderDialog: { good: ['batch-output'], wrongType: [7], missing: [] },
  showSaveDialog: { good: ['a.jpg', 'jpeg'], wrongType: ['a.jpg', 'gif'], missing: ['a.jpg'] },
  recentFiles: { good: [], wrongType: [{}], missing: [null] },
  openImage: { good: ['/in/a.jpg'], wrongType: [12], missing: [], ungranted: ['/etc/passwd'] },
  listFolder: { good: ['/in'], wrongType: [['/in']], missing: [], ungranted: ['/home'] },
  closeImage: { good: ['img1'], wrongType: [1], missing: [] },
  deblur: { good: ['img1', 'job1'], wrongType: ['img1', 5], missing: ['img1'] },
  estimateMotion: { good: ['img1', 'job2'], wrongType: [{}, 'job2'], missing: ['img1'] },
  exportImage: {
    good: [exportReq],
    wrongType: [{ ...exportReq, strength: '1' }],
    missing: [{ ...exportReq, path: undefined }],
    ungranted: [{ ...exportReq, path: '/in/a-copy.jpg' }],
  },
  startBatch: {
    good: [batchReq],
    wrongType: [{ ...batchReq, recursive: 'yes' }],
    missing: [(({ outputDir: _o, ...rest }) => rest)(batchReq)],
    ungranted: [{ ...batchReq, outputDir: '/in/out' }],
  },
  startAdapt: {
    good: [adaptReq],
    wrongType: [{ ...adaptReq, minutes: 'five' }],
    missing: [{ sharpDir: '/sharp', name: 'x' }],
    ungranted: [{ ...adaptReq, sharpDir: '/elsewhere' }],
  },
  finishAdapt: { good: ['job-a', true], wrongType: ['job-a', 'yes'], missing: ['job-a'] },
  cancelJob: { good: ['job-a'], wrongType: [false], missing: [] },
  listModels: { good: [], wrongType: ['all'], missing: [undefined] },
  selectModel: { good: ['base-deblur'], wrongType: [3], missing: [] },
  deleteModel: { good: ['personal-1'], wrongType: [{ id: 'x' }], missing: [] },
};

function setup() {
  const studio = fakeStudio();
  const grants = new PathGrants('linux');
  const dialogs: DialogProvider = {
    async showOpenDialog() {
      return ['/picked/a.jpg'];
    },
    async showFolderDialog(purpose) {
      return purpose === 'batch-output' ? '/picked-out' : '/picked-in';
    },
    async showSaveDialog(name) {
      return `/saved/${name}`;
    },
  };
  const d = createApiDispatcher(studio, grants, { dialogs });
  // What the user picked earlier in this "run".
  d.grantChosen({ kind: 'open', paths: ['/in/a.jpg'] });
  d.grantChosen({ kind: 'folder', purpose: 'batch-input', path: '/in' });
  d.grantChosen({ kind: 'folder', purpose: 'adapt-sharp', path: '/sharp' });
  d.grantChosen({ kind: 'folder', purpose: 'batch-output', path: '/out' });
  return { studio, grants, d };
}

async function rejects(p: Promise<unknown>, code: string, re?: RegExp) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof CallError, `expected CallError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (re) assert.match(err.message, re);
    return true;
  });
}

test('every method has a channel, a schema and a test case', () => {
  for (const m of INVOKE_METHODS) {
    assert.ok(argSchemas[m], m);
    assert.ok(cases[m], m);
    assert.equal(channelOf(m), `neurmap:${m}`);
  }
  assert.equal(new Set(INVOKE_METHODS).size, INVOKE_METHODS.length);
});

for (const method of INVOKE_METHODS) {
  describe(`channel ${method}`, () => {
    const c = cases[method];
    test('a good call is forwarded', async () => {
      const { studio, d } = setup();
      const out = await d.invoke(method, c.good);
      if (!method.startsWith('show')) {
        assert.equal(studio.calls.length, 1);
        assert.equal(studio.calls[0].method, method);
        assert.deepEqual(studio.calls[0].args, c.good);
      } else {
        assert.notEqual(out, undefined);
      }
    });
    test('a wrong type is rejected before the engine', async () => {
      const { studio, d } = setup();
      await rejects(d.invoke(method, c.wrongType), 'invalid-argument', new RegExp(`^${method}: invalid argument`));
      assert.equal(studio.calls.length, 0);
    });
    test('a missing field is rejected before the engine', async () => {
      const { studio, d } = setup();
      await rejects(d.invoke(method, c.missing), 'invalid-argument');
      assert.equal(studio.calls.length, 0);
    });
    if (c.ungranted) {
      test('a path not granted is rejected before the engine', async () => {
        const { studio, d } = setup();
        await rejects(d.invoke(method, c.ungranted!), 'not-granted', /was not chosen/);
        assert.equal(studio.calls.length, 0);
      });
    }
  });
}

test('error messages name the argument and the problem', async () => {
  const { d } = setup();
  await rejects(d.invoke('openImage', [12]), 'invalid-argument', /openImage: invalid argument — path: .*string/i);
  await rejects(d.invoke('exportImage', [{ ...exportReq, extra: 1 }]), 'invalid-argument', /unknown field extra/);
  await rejects(d.invoke('exportImage', [{ ...exportReq, strength: 3 }]), 'invalid-argument', /request.strength: must be at most 2/);
  await rejects(d.invoke('openImage', ['relative/a.jpg']), 'invalid-argument', /absolute path/);
  await rejects(d.invoke('deblur', ['img1', 'job', 'extra']), 'invalid-argument', /expected 2 arguments/);
  await rejects(d.invoke('deblur', 'img1'), 'invalid-argument');
  await rejects(d.invoke('__proto__', []), 'unknown-method');
  await rejects(d.invoke('constructor', []), 'unknown-method');
});

test('folder grants cover their contents, but not .. escapes or siblings', async () => {
  const { d, studio } = setup();
  await d.invoke('openImage', ['/in/sub/deep/b.jpg']);
  assert.equal(studio.calls.length, 1);
  await rejects(d.invoke('openImage', ['/in/../etc/passwd']), 'not-granted');
  await rejects(d.invoke('openImage', ['/inside.jpg']), 'not-granted');
  await rejects(d.invoke('openImage', ['/in2/a.jpg']), 'not-granted');
});

test('read grants do not allow writing', async () => {
  const { d } = setup();
  await rejects(d.invoke('exportImage', [{ ...exportReq, path: '/in/a.jpg' }]), 'not-granted', /for writing/);
  await rejects(d.invoke('startBatch', [{ ...batchReq, outputDir: '/sharp' }]), 'not-granted');
});

test('dialogs grant what the user picked', async () => {
  const { d, studio } = setup();
  assert.deepEqual(await d.invoke('showOpenDialog', []), ['/picked/a.jpg']);
  await d.invoke('openImage', ['/picked/a.jpg']);
  assert.equal(await d.invoke('showSaveDialog', ['a.tif', 'tiff']), '/saved/a.tif');
  await d.invoke('exportImage', [{ ...exportReq, path: '/saved/a.tif' }]);
  assert.equal(await d.invoke('showFolderDialog', ['batch-output']), '/picked-out');
  await d.invoke('startBatch', [{ ...batchReq, outputDir: '/picked-out/sub' }]);
  assert.equal(studio.calls.length, 3);
  await rejects(d.invoke('showSaveDialog', ['../../evil.jpg', 'jpeg']), 'invalid-argument', /plain file name/);
});

test('recent files returned by the engine become openable', async () => {
  const { d } = setup();
  await rejects(d.invoke('openImage', ['/photos/recent.jpg']), 'not-granted');
  await d.invoke('recentFiles', []);
  await d.invoke('openImage', ['/photos/recent.jpg']);
});

test('a shell without dialogs says so', async () => {
  const d = createApiDispatcher(fakeStudio(), new PathGrants('linux'));
  await rejects(d.invoke('showOpenDialog', []), 'unavailable');
});

test('handle() wraps results and errors in an envelope, keeping engine error codes', async () => {
  const studio = fakeStudio();
  studio.openImage = async () => {
    throw Object.assign(new Error('a.jpg: the file is truncated'), { code: 'truncated' });
  };
  const d = createApiDispatcher(studio, new PathGrants('linux'));
  d.grantChosen({ kind: 'drop', paths: ['/x/a.jpg'] });
  assert.deepEqual(await d.handle('openImage', ['/x/a.jpg']), { ok: false, error: { code: 'truncated', message: 'a.jpg: the file is truncated' } });
  assert.deepEqual(await d.handle('cancelJob', ['j']), { ok: true, value: undefined });
  const bad = await d.handle('cancelJob', [1]);
  assert.equal(bad.ok, false);
});

test('job events are relayed', () => {
  const studio = fakeStudio();
  const d = createApiDispatcher(studio, new PathGrants('linux'));
  const seen: string[] = [];
  const off = d.onJobEvent((e) => seen.push(e.jobId));
  studio.emit({ jobId: 'j1', kind: 'batch', state: 'running', fraction: 0.5, message: '', etaSeconds: null });
  off();
  studio.emit({ jobId: 'j2', kind: 'batch', state: 'running', fraction: 0.5, message: '', etaSeconds: null });
  assert.deepEqual(seen, ['j1']);
});

test('grants on Windows are case-insensitive and use drive roots', () => {
  const g = new PathGrants('win32');
  g.grantDir('C:\\Users\\Ann\\Photos', 'read');
  assert.ok(g.allows('c:\\users\\ann\\photos\\a.jpg', 'read'));
  assert.ok(!g.allows('C:\\Users\\Ann\\Photos2\\a.jpg', 'read'));
  assert.ok(!g.allows('C:\\Users\\Ann\\Photos\\a.jpg', 'write'));
});
