import { mount } from 'svelte';
import App from './App.svelte';
import { connectApi, errorMessage } from './lib/api.ts';
import { app } from './lib/store.svelte.ts';
import { picker } from './lib/picker.svelte.ts';
import { createBridgeHttp } from './lib/bridge-client.ts';
import './styles.css';
import './panel.css';

let startupError = '';
try {
  const api = connectApi();
  if (api.shell === 'browser') {
    const token = document.querySelector<HTMLMetaElement>('meta[name="neurmap-token"]')?.content;
    if (token) picker.http = createBridgeHttp(decodeURIComponent(token));
  }
  app.init(api).catch((err) => app.fail(err, 'Start-up'));
} catch (err) {
  startupError = errorMessage(err);
}

const target = document.getElementById('app');
if (!target) throw new Error('no #app element');
mount(App, { target, props: { startupError } });
