// How a console gets a person's attention for a new critical alert without any binary asset: a WebAudio
// beep and a flashing document title. Browsers keep audio suspended until the page has had a user
// gesture; `soundBlocked` tells the console to offer a button for that.
import { ref } from 'vue';

let context: AudioContext | null = null;
let pageTitle = document.title;
let flashTimer: ReturnType<typeof setInterval> | null = null;

export const soundBlocked = ref(false);
export const flashing = ref(false);

function audio(): AudioContext {
  context ??= new AudioContext();
  return context;
}

/** Call from a click or key handler: browsers only let a gesture start audio. */
export async function unlockSound(): Promise<void> {
  await audio().resume();
  soundBlocked.value = audio().state !== 'running';
}

/** Three short high beeps, loud enough to hear across a room, short enough not to annoy. */
export function beep(): void {
  const ctx = audio();
  if (ctx.state !== 'running') {
    soundBlocked.value = true;
    void ctx.resume().then(() => (soundBlocked.value = ctx.state !== 'running'));
  }
  const start = ctx.currentTime + 0.05;
  for (let i = 0; i < 3; i++) {
    const at = start + i * 0.25;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = 'square';
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.25, at + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.15);
    osc.connect(gain).connect(ctx.destination);
    osc.start(at);
    osc.stop(at + 0.16);
  }
}

export function setPageTitle(title: string): void {
  pageTitle = title;
  if (!flashing.value) document.title = title;
}

/** Alternates the tab title with `message` until stopFlash(), so a console in a background tab is seen. */
export function flashTitle(message: string): void {
  stopFlash();
  flashing.value = true;
  let on = true;
  document.title = `⚠ ${message}`;
  flashTimer = setInterval(() => {
    on = !on;
    document.title = on ? `⚠ ${message}` : pageTitle;
  }, 1000);
}

export function stopFlash(): void {
  if (flashTimer !== null) clearInterval(flashTimer);
  flashTimer = null;
  flashing.value = false;
  document.title = pageTitle;
}
