// The live page: the socket to our server, the microphone, the speaker, the buttons.
//
// Nothing starts until Start is pressed (a browser lets a page make sound only after a
// gesture, and on the real API a conversation is billed). Then: the microphone goes through
// the capture worklet (24 kHz PCM16, 20 ms chunks) to the server as `audio` frames; the
// assistant's audio comes back as `audio` messages and plays through the playback worklet,
// whose reports become `audio_played`, so a barge-in is truncated where the listener was.
// If the socket drops, the page says so and reconnects, resuming the same conversation.
// `window.realtimePage.state` shows what happened (tests and curious users read it).

import { Timeline } from "./timeline.js";

const RATE = 24000;
const RECONNECT_DELAYS_MS = [250, 500, 1000, 2000, 4000];

const $ = (id) => document.getElementById(id);
const ui = {
  start: $("start"),
  mute: $("mute"),
  talk: $("talk"),
  interrupt: $("interrupt"),
  level: $("level"),
  say: $("say"),
  text: $("text"),
  send: $("send"),
  status: $("status"),
  banner: $("banner"),
  hint: $("hint"),
  agent: $("agent"),
  target: $("target"),
  stats: $("stats"),
};

const state = {
  status: "idle", // idle, connecting, connected, reconnecting, ended
  token: null,
  connects: 0,
  resumes: 0,
  drops: 0,
  micChunksSent: 0,
  micChunksDropped: 0,
  received: {}, // item id -> samples received
  played: {}, // item id -> samples played (the worklet's count)
  reports: [], // every audio_played sent: {item_id, content_index, ms}
  audioDone: [], // items whose audio has all arrived
  interruptions: [], // {item_id, audio_end_ms, reported_ms}: the server's cut, the page's last report
  stopped: [], // {item_id, ms}: where the speaker stopped an item, by a cut or a button
  latencies: [], // ms from the server's speech_stopped to the answer's first sample played
  samplesPlayed: 0,
  messages: 0,
  errors: [],
  audioStarted: false,
};
window.realtimePage = { state };

const timeline = new Timeline(
  { captions: $("captions"), timeline: $("timeline"), latency: $("latency") },
  { onApproval: (callId, yes) => send({ type: yes ? "approve_tool" : "reject_tool", call_id: callId }) },
);

let socket = null;
let ended = false;
let attempt = 0;
let audio = null; // {context, capture, playback}
let muted = false;
let talking = false;
let speechStoppedAt = null; // performance.now() of the latest speech_stopped, for latency
let startedAt = performance.now();

function now() {
  return (performance.now() - startedAt) / 1000;
}

// -- status -------------------------------------------------------------------------------

// What the conversation's kind can do (`ready.controls`): the voice pipeline has no push-to-talk
// or typed input, since it finds the user's turns in their speech.
let controls = { interrupt: true, push_to_talk: true, text: true };
const WHY_OFF = {
  interrupt: "this conversation cannot be interrupted",
  push_to_talk: "the voice pipeline finds your turns by itself",
  text: "speech only (voice pipeline)",
};

function setStatus(status, text) {
  state.status = status;
  ui.status.dataset.state = status;
  ui.status.textContent = text;
  const live = status === "connected";
  ui.mute.disabled = !live;
  ui.talk.disabled = !live || !controls.push_to_talk;
  ui.interrupt.disabled = !live || !controls.interrupt;
  ui.text.disabled = ui.send.disabled = !live || !controls.text;
  if (!audio?.capture) ui.mute.disabled = ui.talk.disabled = true; // no microphone: type
}

function applyControls(given) {
  controls = { interrupt: true, push_to_talk: true, text: true, ...(given || {}) };
  ui.talk.title = controls.push_to_talk ? "hold to talk (or hold the space bar)" : WHY_OFF.push_to_talk;
  ui.interrupt.title = controls.interrupt ? "stop the assistant where you are" : WHY_OFF.interrupt;
  ui.text.placeholder = controls.text ? "or type a message" : WHY_OFF.text;
}

function banner(text, kind = "info") {
  ui.banner.hidden = !text;
  ui.banner.textContent = text || "";
  ui.banner.dataset.kind = kind;
}

// Why there is no microphone, if there is none: said for as long as it lasts, not only until
// the socket connects (the ready banner used to clear it).
let micProblem = null;

function settledBanner() {
  if (!micProblem) banner("");
  else if (controls.text) banner(`No microphone (${micProblem}): you can still type.`, "warn");
  else banner(`No microphone (${micProblem}): the voice pipeline hears speech only.`, "error");
}

// -- the socket -----------------------------------------------------------------------------

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify(message));
    return true;
  }
  return false;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(`${scheme}//${location.host}/ws`);
  const mine = socket;
  setStatus(state.token ? "reconnecting" : "connecting", state.token ? "reconnecting…" : "connecting…");
  mine.onopen = () => mine.send(JSON.stringify({ type: "hello", resume: state.token }));
  mine.onmessage = (event) => receive(JSON.parse(event.data));
  mine.onclose = (event) => {
    if (socket !== mine) return;
    socket = null;
    if (ended) return;
    if (event.code === 4001) {
      end("this conversation continues in another tab");
      return;
    }
    if (event.code === 1013 || event.code === 1011 || event.code === 1008) {
      end(event.reason || `the server refused the connection (${event.code})`);
      return;
    }
    state.drops += 1;
    const delay = RECONNECT_DELAYS_MS[Math.min(attempt, RECONNECT_DELAYS_MS.length - 1)];
    attempt += 1;
    setStatus("reconnecting", `reconnecting (attempt ${attempt})…`);
    banner("The connection to the server dropped. Reconnecting; the conversation goes on.", "warn");
    timeline.note("connection to the server lost: reconnecting", "page", now());
    setTimeout(connect, delay);
  };
}

function end(reason) {
  ended = true;
  setStatus("ended", "ended");
  banner(`The conversation ended: ${reason}. Press Start for a new one.`, "error");
  ui.start.disabled = false;
  ui.start.textContent = "New conversation";
  if (audio) audio.playback.port.postMessage({ type: "stop_all", reason: "ended" });
}

function receive(message) {
  state.messages += 1;
  if (message.type === "audio") return play(message);
  if (message.type === "ready") ready(message);
  else if (message.type === "audio_done") audioDone(message);
  else if (message.type === "interrupted") interrupted(message);
  else if (message.type === "speech" && message.state === "stopped") speechStoppedAt = performance.now();
  else if (message.type === "speech" && message.state === "started") speechStoppedAt = null;
  else if (message.type === "error") state.errors.push(message);
  else if (message.type === "agent_start") ui.agent.textContent = message.agent;
  else if (message.type === "handoff") ui.agent.textContent = message.to;
  timeline.apply(message);
  if (message.type === "closed") {
    const socketToClose = socket;
    end(message.text || "the server closed it");
    socketToClose?.close();
  }
}

function ready(message) {
  const resumed = message.resumed && state.token === message.token;
  state.token = message.token;
  state.connects += 1;
  // The page's own rows (latency heard, connection lost) on the conversation's clock.
  if (!resumed && typeof message.t === "number") startedAt = performance.now() - message.t * 1000;
  if (resumed) {
    state.resumes += 1;
    banner("Reconnected: the conversation goes on.", "ok");
    setTimeout(() => state.status === "connected" && settledBanner(), 4000);
  }
  attempt = 0;
  applyControls(message.controls);
  if (!resumed) settledBanner();
  ui.agent.textContent = message.agent;
  ui.target.textContent = message.target;
  ui.hint.hidden = !message.hint;
  ui.hint.textContent = message.hint || "";
  setStatus("connected", "connected");
}

// -- the assistant's audio ------------------------------------------------------------------

function decodePcm16(base64) {
  const bytes = atob(base64);
  const samples = new Float32Array(bytes.length >> 1);
  for (let i = 0; i < samples.length; i++) {
    let value = bytes.charCodeAt(2 * i) | (bytes.charCodeAt(2 * i + 1) << 8);
    if (value >= 0x8000) value -= 0x10000;
    samples[i] = value / 32768;
  }
  return samples;
}

function play(message) {
  const samples = decodePcm16(message.pcm);
  state.received[message.item_id] = (state.received[message.item_id] || 0) + samples.length;
  if (!audio) return; // no speaker yet: nothing is heard, so nothing is reported played
  audio.playback.port.postMessage(
    { type: "chunk", item: message.item_id, contentIndex: message.content_index, samples },
    [samples.buffer],
  );
}

function audioDone(message) {
  state.audioDone.push(message.item_id);
  audio?.playback.port.postMessage({ type: "end", item: message.item_id });
}

function reportPlayed(item, contentIndex, samples) {
  state.played[item] = samples;
  const report = { type: "audio_played", item_id: item, content_index: contentIndex, ms: (samples * 1000) / RATE };
  if (send(report)) state.reports.push({ item_id: item, content_index: contentIndex, ms: report.ms });
}

function onPlayback(message) {
  if (message.type === "started") {
    if (speechStoppedAt !== null) {
      const latency = performance.now() - speechStoppedAt;
      speechStoppedAt = null;
      state.latencies.push(latency);
      timeline.heard(latency, now());
    }
  } else if (message.type === "played") {
    const before = state.played[message.item] || 0;
    state.samplesPlayed += message.samples - before;
    reportPlayed(message.item, message.contentIndex, message.samples);
  } else if (message.type === "stopped") {
    if (message.item !== null) {
      const before = state.played[message.item] || 0;
      state.samplesPlayed += Math.max(0, message.samples - before);
      reportPlayed(message.item, message.contentIndex, message.samples);
      state.stopped.push({ item_id: message.item, ms: (message.samples * 1000) / RATE });
    }
    // The buttons: what was heard goes out first, so the server cuts exactly there.
    if (message.reason === "button") send({ type: "interrupt" });
    else if (message.reason === "talk") send({ type: "push_to_talk", pressed: true });
  } else if (message.type === "overflow") {
    timeline.note(`playback buffer full: ${message.samples} samples dropped`, "error", now());
  }
  ui.stats.textContent = `audio played: ${(state.samplesPlayed / RATE).toFixed(2)} s (${state.samplesPlayed * 2} bytes)`;
}

function interrupted(message) {
  audio?.playback.port.postMessage({ type: "stop", item: message.item_id });
  state.interruptions.push({
    item_id: message.item_id,
    audio_end_ms: message.audio_end_ms,
    reported_ms: ((state.played[message.item_id] || 0) * 1000) / RATE,
  });
}

// -- the microphone -------------------------------------------------------------------------

function encodePcm16(buffer) {
  const bytes = new Uint8Array(buffer);
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x4000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x4000));
  }
  return btoa(text);
}

let levelShown = 0;
function onCapture(message) {
  levelShown = Math.max(message.level, levelShown * 0.85);
  ui.level.style.width = `${Math.min(100, Math.sqrt(levelShown) * 180).toFixed(1)}%`;
  if (state.status !== "connected") {
    state.micChunksDropped += 1; // nobody to hear it: while away, the microphone is not kept
    return;
  }
  if (send({ type: "audio", pcm: encodePcm16(message.pcm) })) state.micChunksSent += 1;
}

async function startAudio() {
  const context = new AudioContext({ latencyHint: "interactive" });
  await context.audioWorklet.addModule("capture-worklet.js");
  await context.audioWorklet.addModule("playback-worklet.js");
  const playback = new AudioWorkletNode(context, "playback", { numberOfInputs: 0, outputChannelCount: [2] });
  playback.port.onmessage = (event) => onPlayback(event.data);
  playback.connect(context.destination);
  audio = { context, playback, capture: null };
  try {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    const source = context.createMediaStreamSource(stream);
    const capture = new AudioWorkletNode(context, "capture", { numberOfOutputs: 1, outputChannelCount: [1] });
    capture.port.onmessage = (event) => onCapture(event.data);
    source.connect(capture);
    // Silent, but connected: a node that leads nowhere may not be run at all.
    const sink = context.createGain();
    sink.gain.value = 0;
    capture.connect(sink).connect(context.destination);
    audio.capture = capture;
  } catch (error) {
    micProblem = window.isSecureContext ? error.message : "the page is not on https or localhost";
    settledBanner();
  }
  await context.resume();
  state.audioStarted = true;
}

// -- buttons --------------------------------------------------------------------------------

ui.start.addEventListener("click", async () => {
  ui.start.disabled = true;
  if (ended) {
    // A new conversation: a clean slate on both sides.
    ended = false;
    state.token = null;
    startedAt = performance.now();
  }
  if (!audio) await startAudio();
  ui.start.textContent = "Started";
  connect();
});

ui.mute.addEventListener("click", () => {
  muted = !muted;
  ui.mute.setAttribute("aria-pressed", String(muted));
  ui.mute.textContent = muted ? "Unmute" : "Mute";
  audio?.capture?.port.postMessage({ muted });
});

function talk(pressed) {
  if (pressed === talking || state.status !== "connected" || !controls.push_to_talk) return;
  talking = pressed;
  ui.talk.classList.toggle("held", pressed);
  audio?.capture?.port.postMessage({ talking: pressed });
  // Pressed: the speaker stops first, and its report is sent before the press (onPlayback).
  if (pressed && audio) audio.playback.port.postMessage({ type: "stop_all", reason: "talk" });
  else send({ type: "push_to_talk", pressed });
}
ui.talk.addEventListener("pointerdown", (event) => {
  ui.talk.setPointerCapture(event.pointerId);
  talk(true);
});
for (const name of ["pointerup", "pointercancel", "lostpointercapture"]) {
  ui.talk.addEventListener(name, () => talk(false));
}
window.addEventListener("keydown", (event) => {
  if (event.code === "Space" && !event.repeat && document.activeElement !== ui.text) {
    event.preventDefault();
    talk(true);
  }
});
window.addEventListener("keyup", (event) => {
  if (event.code === "Space" && document.activeElement !== ui.text) talk(false);
});

ui.interrupt.addEventListener("click", () => {
  // Stop the speaker first; its last report goes out before the interrupt (see onPlayback).
  if (audio) audio.playback.port.postMessage({ type: "stop_all", reason: "button" });
  else send({ type: "interrupt" });
});

ui.say.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = ui.text.value.trim();
  if (text && send({ type: "text", text })) ui.text.value = "";
});

if (!window.isSecureContext) {
  banner("This page is not on https or localhost: the browser will not give it a microphone.", "warn");
}
