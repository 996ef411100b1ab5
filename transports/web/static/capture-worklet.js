// The microphone, as the session wants it: mono PCM16 at 24 kHz, in 20 ms chunks.
//
// Runs on the audio thread at the AudioContext's rate (44.1 or 48 kHz usually). Each block is
// mixed to mono, low-passed below 24 kHz's Nyquist frequency when downsampling (two biquads,
// 24 dB/octave, so the resampling does not fold highs into the speech band), and resampled by
// linear interpolation, carrying the fractional position and the last sample across blocks.
// A chunk goes to the page with its RMS level (for the meter). Muted, the chunk is silence
// (the server's VAD hears the turn end), unless the talk button is held.

const TARGET_RATE = 24000;
const CHUNK = 480; // 20 ms at 24 kHz

// RBJ cookbook low-pass, as normalised coefficients.
function lowpass(cutoff, rate) {
  const w = (2 * Math.PI * cutoff) / rate;
  const alpha = Math.sin(w) / (2 * Math.SQRT1_2);
  const cos = Math.cos(w);
  const a0 = 1 + alpha;
  return {
    b0: (1 - cos) / 2 / a0,
    b1: (1 - cos) / a0,
    b2: (1 - cos) / 2 / a0,
    a1: (-2 * cos) / a0,
    a2: (1 - alpha) / a0,
    x1: 0,
    x2: 0,
    y1: 0,
    y2: 0,
  };
}

function filter(f, x) {
  const y = f.b0 * x + f.b1 * f.x1 + f.b2 * f.x2 - f.a1 * f.y1 - f.a2 * f.y2;
  f.x2 = f.x1;
  f.x1 = x;
  f.y2 = f.y1;
  f.y1 = y;
  return y;
}

class Capture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / TARGET_RATE; // input samples per output sample
    this.position = 0; // of the next output sample, from the block's first sample (>= -1)
    this.previous = 0; // the last sample of the previous block
    this.filters =
      sampleRate > TARGET_RATE
        ? [lowpass(0.45 * TARGET_RATE, sampleRate), lowpass(0.45 * TARGET_RATE, sampleRate)]
        : [];
    this.chunk = new Int16Array(CHUNK);
    this.filled = 0;
    this.squares = 0;
    this.muted = false;
    this.talking = false;
    this.port.onmessage = (event) => {
      if (typeof event.data.muted === "boolean") this.muted = event.data.muted;
      if (typeof event.data.talking === "boolean") this.talking = event.data.talking;
    };
  }

  emit(value) {
    const sample = this.muted && !this.talking ? 0 : Math.max(-1, Math.min(1, value));
    this.chunk[this.filled++] = Math.round(sample * 32767);
    this.squares += sample * sample;
    if (this.filled === CHUNK) {
      const level = Math.sqrt(this.squares / CHUNK);
      this.port.postMessage({ pcm: this.chunk.buffer, level }, [this.chunk.buffer]);
      this.chunk = new Int16Array(CHUNK);
      this.filled = 0;
      this.squares = 0;
    }
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    const n = channels[0].length;
    const mono = new Float32Array(n);
    for (const channel of channels) {
      for (let i = 0; i < n; i++) mono[i] += channel[i] / channels.length;
    }
    for (const f of this.filters) {
      for (let i = 0; i < n; i++) mono[i] = filter(f, mono[i]);
    }
    let t = this.position;
    for (;;) {
      const i = Math.floor(t);
      if (i + 1 > n - 1) break;
      const a = i < 0 ? this.previous : mono[i];
      this.emit(a + (mono[i + 1] - a) * (t - i));
      t += this.step;
    }
    this.position = t - n;
    this.previous = mono[n - 1];
    return true;
  }
}

registerProcessor("capture", Capture);
