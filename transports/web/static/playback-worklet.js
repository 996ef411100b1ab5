// The assistant's voice: a jitter buffer that says exactly what it has played.
//
// Chunks of 24 kHz samples arrive tagged with their item; they are played in order, resampled
// to the AudioContext's rate by linear interpolation. A new item (or one that ran dry) waits
// for PREBUFFER of audio, or for its end, before it starts, so network jitter does not chop
// it. What has been played is counted per item in 24 kHz samples, the unit the server's
// truncation is measured in, and reported every REPORT_EVERY samples, when the item ends, when
// it runs dry (all that has come is played), and when it is stopped: those reports are what
// the page sends as `audio_played`.
//
// In:  {type: "chunk", item, contentIndex, samples}  {type: "end", item}
//      {type: "stop", item}  {type: "stop_all", reason}
// Out: {type: "started", item}  {type: "played", item, contentIndex, samples, done}
//      {type: "stopped", item, contentIndex, samples, reason}  {type: "overflow", samples}

const SOURCE_RATE = 24000;
const PREBUFFER = 1440; // 60 ms
const REPORT_EVERY = 480; // 20 ms: the most a barge-in's cut can lag what was heard, plus transit
const MAX_BUFFERED = SOURCE_RATE * 180; // 3 minutes; past it new audio is dropped, and said so

class Playback extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = SOURCE_RATE / sampleRate; // source samples per output sample
    this.queue = []; // {item, contentIndex, samples}
    this.buffered = 0;
    this.ended = new Set(); // items whose last chunk has arrived
    this.current = null; // {item, contentIndex, played, reported}
    this.offset = 0; // fractional read position in the head chunk
    this.waiting = true; // prebuffering
    this.port.onmessage = (event) => this.command(event.data);
  }

  command(message) {
    if (message.type === "chunk") {
      if (this.buffered + message.samples.length > MAX_BUFFERED) {
        this.port.postMessage({ type: "overflow", samples: message.samples.length });
        return;
      }
      this.queue.push(message);
      this.buffered += message.samples.length;
    } else if (message.type === "end") {
      this.ended.add(message.item);
      const current = this.current;
      if (current && current.item === message.item && !this.queue.some((c) => c.item === current.item)) {
        this.finish(); // it had run dry on its very last chunk
      }
    } else if (message.type === "stop") {
      this.stop((chunk) => chunk.item === message.item, message.item, "interrupted");
    } else if (message.type === "stop_all") {
      this.stop(() => true, null, message.reason);
    }
  }

  stop(matches, item, reason) {
    if (item === null) this.ended.clear();
    else this.ended.delete(item);
    const kept = this.queue.filter((chunk) => !matches(chunk));
    this.buffered = kept.reduce((sum, chunk) => sum + chunk.samples.length, 0);
    const current = this.current;
    if (current && (item === null || current.item === item)) {
      // The head chunk belonged to the current item: it is dropped with the rest.
      const heard = current.played + Math.floor(this.offset);
      this.port.postMessage({
        type: "stopped",
        item: current.item,
        contentIndex: current.contentIndex,
        samples: heard,
        reason,
      });
      this.current = null;
      this.offset = 0;
      this.waiting = true;
    } else if (item === null) {
      this.port.postMessage({ type: "stopped", item: null, samples: 0, reason });
    }
    this.queue = kept;
  }

  ready() {
    if (this.queue.length === 0) return false;
    if (this.buffered >= PREBUFFER) return true;
    // Short of the prebuffer, but nothing more is coming for what is queued: play it.
    return this.queue.every((chunk) => this.ended.has(chunk.item));
  }

  report(done) {
    const current = this.current;
    const samples = current.played + (done ? 0 : Math.floor(this.offset));
    if (done || samples - current.reported >= REPORT_EVERY) {
      current.reported = samples;
      this.port.postMessage({
        type: "played",
        item: current.item,
        contentIndex: current.contentIndex,
        samples,
        done,
      });
    }
  }

  // The head chunk is used up: count it, and finish its item if that was its last chunk.
  advance() {
    const head = this.queue.shift();
    this.buffered -= head.samples.length;
    this.current.played += head.samples.length;
    this.offset -= head.samples.length;
    const next = this.queue[0];
    if (next && next.item === head.item) return;
    if (next || this.ended.has(head.item)) {
      this.finish();
      return;
    }
    // Ran dry mid-item: all that came is heard, so say so now (a voice pipeline waits for
    // that before it ends the turn), and wait for more before going on.
    this.current.reported = this.current.played;
    this.port.postMessage({
      type: "played",
      item: head.item,
      contentIndex: this.current.contentIndex,
      samples: this.current.played,
      done: false,
    });
    this.waiting = true;
  }

  // The current item has played to its end: the final report, then the next one prebuffers.
  finish() {
    this.report(true);
    this.ended.delete(this.current.item);
    this.current = null;
    this.offset = 0;
    this.waiting = true;
  }

  process(inputs, outputs) {
    const output = outputs[0];
    const left = output[0];
    for (let n = 0; n < left.length; n++) {
      if (this.waiting) {
        if (!this.ready()) {
          left[n] = 0;
          continue;
        }
        this.waiting = false;
      }
      const head = this.queue[0];
      if (!head) {
        this.waiting = true;
        left[n] = 0;
        continue;
      }
      if (!this.current || this.current.item !== head.item) {
        this.current = { item: head.item, contentIndex: head.contentIndex, played: 0, reported: 0 };
        this.offset = 0;
        this.port.postMessage({ type: "started", item: head.item });
      }
      const i = Math.floor(this.offset);
      const a = head.samples[i];
      let b = a;
      if (i + 1 < head.samples.length) b = head.samples[i + 1];
      else if (this.queue[1] && this.queue[1].item === head.item) b = this.queue[1].samples[0];
      left[n] = a + (b - a) * (this.offset - i);
      this.offset += this.step;
      while (this.current && this.queue[0] && this.offset >= this.queue[0].samples.length) {
        this.advance();
      }
    }
    for (let c = 1; c < output.length; c++) output[c].set(left);
    if (this.current) this.report(false);
    return true;
  }
}

registerProcessor("playback", Playback);
