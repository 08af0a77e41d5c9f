/**
 * The engine host: the shells (Electron main, the bridge) run the Studio in a separate process and talk to it by
 * messages. Against the real host process and the real engine, and for the crash paths, against a scripted host.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHostedStudio, type HostedStudio, type HostProcess } from '../../src-main/studio-host/client.ts';
import type { CallError } from '../../src-shared/contract/errors.ts';
import { forkNodeHost } from '../../src-main/studio-host/node-process.ts';
import type { FromHost, HostSettings, ToHost } from '../../src-main/studio-host/protocol.ts';
import { Studio } from '../../src-main/engine/studio/studio.ts';
import { assetUrlOf } from '../../src-main/ipc/asset-url.ts';
import type { JobEvent } from '../../src-shared/contract/types.ts';
import { tinyDeblur, colourMotion } from '../helpers/tiny-onnx.ts';
import { writeTestPhoto } from '../helpers/photos.ts';

let tmp: string;
let settings: HostSettings;
let photo: string;
let studio: HostedStudio;

before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'neurmap-host-'));
  const modelsDir = path.join(tmp, 'models');
  await fs.mkdir(modelsDir);
  await tinyDeblur(7, 4, 0.12).save(path.join(modelsDir, 'deblur.onnx'));
  await colourMotion(4).save(path.join(modelsDir, 'motion.onnx'));
  settings = { userDataDir: path.join(tmp, 'user'), modelsDir, assetUrl: { prefix: 'test-asset://studio/', suffix: '?t=1' } };
  photo = await writeTestPhoto(path.join(tmp, 'photo.jpg'), { width: 160, height: 120 });
  studio = createHostedStudio({ spawn: forkNodeHost, settings });
  await studio.ready();
});

after(async () => {
  await studio.dispose();
  await fs.rm(tmp, { recursive: true, force: true });
});

test('calls reach the real Studio in the host process; asset URLs use the shell\'s form; only handed-out assets read back', async () => {
  const info = await studio.openImage(photo);
  assert.equal(info.width, 160);
  assert.equal(info.name, 'photo.jpg');
  const assetPath = `preview/${info.id}.jpg`;
  assert.equal(info.previewUrl, assetUrlOf(settings.assetUrl, assetPath));
  const asset = await studio.readAsset(assetPath);
  assert.equal(asset?.mime, 'image/jpeg');
  assert.deepEqual([...asset!.bytes.subarray(0, 2)], [0xff, 0xd8]);
  assert.equal(await studio.readAsset('preview/never-handed-out.jpg'), null);
});

test('job events of the host reach the shell\'s listeners', async () => {
  const events: JobEvent[] = [];
  const off = studio.onJobEvent((e) => events.push(e));
  const info = await studio.openImage(photo);
  const result = await studio.deblur(info.id, 'job-events-1');
  off();
  assert.equal(result.imageId, info.id);
  const mine = events.filter((e) => e.jobId === 'job-events-1');
  assert.ok(mine.length > 0);
  assert.equal(mine.at(-1)?.state, 'done');
});

test('engine errors arrive with the same code and message as from a Studio in this process', async () => {
  const local = new Studio({ userDataDir: path.join(tmp, 'local-user'), modelsDir: settings.modelsDir, assetUrl: (p) => p });
  const missing = path.join(tmp, 'missing.jpg');
  const localErr = await local.openImage(missing).then(() => null, (e: unknown) => e as Error & { code?: string });
  const hostedErr = await studio.openImage(missing).then(() => null, (e: unknown) => e as Error & { code?: string });
  await local.dispose();
  assert.ok(localErr && hostedErr);
  assert.equal(hostedErr.message, localErr.message);
  assert.equal(hostedErr.code, localErr.code ?? 'engine-error');
});

test('a host that dies fails the pending call with one clear line, and the next call starts a fresh host', async () => {
  const info = await studio.openImage(photo);
  const first = studio.process;
  assert.ok(first);
  const pending = studio.deblur(info.id, 'job-crash-1');
  setImmediate(() => first.kill());
  await assert.rejects(pending, (err: CallError) => {
    assert.equal(err.code, 'engine-stopped');
    assert.match(err.message, /^deblur: the engine process stopped unexpectedly \(killed by SIGKILL\); try again$/);
    return true;
  });
  const again = await studio.openImage(photo);
  assert.equal(again.width, 160);
  assert.notEqual(studio.process, first);
  // The photo opened in the dead host is gone with it, and the Studio says so.
  await assert.rejects(studio.deblur(info.id, 'job-crash-2'), /that photo is no longer open: open it again/);
});

/** A host process scripted by the test: it answers what the test tells it to. */
function scriptedHost(): { proc: HostProcess; sent: ToHost[]; reply: (m: FromHost) => void; exit: (why: string) => void } {
  const sent: ToHost[] = [];
  let onMessage: (m: FromHost) => void = () => {};
  let onExit: (why: string) => void = () => {};
  return {
    sent,
    proc: {
      post: (m) => {
        sent.push(m);
        if (m.type === 'init') queueMicrotask(() => onMessage({ type: 'ready' }));
      },
      onMessage: (cb) => (onMessage = cb),
      onExit: (cb) => (onExit = cb),
      kill: () => onExit('killed'),
    },
    reply: (m) => onMessage(m),
    exit: (why) => onExit(why),
  };
}

test('a job that was running when the host died gets a final failed event that says how to resume it', async () => {
  const host = scriptedHost();
  const hosted = createHostedStudio({ spawn: () => host.proc, settings });
  const events: JobEvent[] = [];
  hosted.onJobEvent((e) => events.push(e));
  await hosted.ready();
  const running = { jobId: 'batch-1', kind: 'batch', state: 'running', fraction: 0.4, message: 'photo 4 of 10', etaSeconds: 12 } satisfies JobEvent;
  host.reply({ type: 'job-event', event: running });
  host.reply({ type: 'job-event', event: { ...running, jobId: 'deblur-1', kind: 'deblur', state: 'done', fraction: 1 } });
  host.exit('exit code 134');
  const last = events.at(-1)!;
  assert.equal(events.length, 3);
  assert.deepEqual({ jobId: last.jobId, state: last.state, fraction: last.fraction, etaSeconds: last.etaSeconds }, { jobId: 'batch-1', state: 'failed', fraction: 0.4, etaSeconds: null });
  assert.equal(last.message, 'the engine process stopped unexpectedly (exit code 134); start the job again to resume it');
});

test('a host that cannot start its Studio fails the call with the reason, and the next call tries again', async () => {
  const host = scriptedHost();
  host.proc.post = (m) => {
    host.sent.push(m);
    if (m.type === 'init') queueMicrotask(() => host.reply({ type: 'init-failed', message: 'EACCES: permission denied, mkdir \'/nope\'' }));
  };
  let spawned = 0;
  const hosted = createHostedStudio({ spawn: () => (spawned++, host.proc), settings });
  await assert.rejects(hosted.listModels(), { message: "the engine could not start: EACCES: permission denied, mkdir '/nope'" });
  assert.ok(!host.sent.some((m) => m.type === 'call'), 'no call is sent to a host that did not start');
  await assert.rejects(hosted.listModels(), /could not start/);
  assert.equal(spawned, 2, 'each call after a failed start tries a fresh host');
});

test('after dispose the host is gone and calls say the engine was shut down', async () => {
  const hosted = createHostedStudio({ spawn: forkNodeHost, settings: { ...settings, userDataDir: path.join(tmp, 'user2') } });
  await hosted.ready();
  const proc = hosted.process!;
  const exited = new Promise<string>((r) => proc.onExit(r));
  await hosted.dispose();
  assert.equal(await exited, 'exit code 0');
  await assert.rejects(hosted.systemInfo(), /systemInfo: the engine has been shut down/);
});
