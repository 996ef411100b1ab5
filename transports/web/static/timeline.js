// Draws a conversation from the bridge's messages: captions on one side, the timeline of
// turns on the other. It knows nothing of sockets or audio: the live page feeds it what the
// server sends, and a replay can feed it a recording's messages to draw the same picture.
// Text from the conversation is only ever set as textContent.

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function seconds(t) {
  return typeof t === "number" ? t.toFixed(2) : "";
}

function ms(value) {
  return `${Math.round(value)} ms`;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function shortJson(text) {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return text;
  }
}

export class Timeline {
  // elements: {captions, timeline, latency}; options.onApproval(callId, approve) for tools
  // that wait for approval (omit it where nobody can answer, as in a replay).
  constructor(elements, options = {}) {
    this.captions = elements.captions;
    this.list = elements.timeline;
    this.latency = elements.latency;
    this.onApproval = options.onApproval || null;
    this.bubbles = new Map(); // item id -> caption element
    this.turns = new Map(); // response id -> turn element
    this.openTurn = null; // the latest turn not yet ended
    this.tools = new Map(); // call id -> tool row
    this.heardLatencies = [];
    this.serverLatencies = [];
    this.agent = null;
  }

  apply(message) {
    const handler = this[`on_${message.type}`];
    if (handler) handler.call(this, message);
  }

  // -- rows -----------------------------------------------------------------------------

  row(t, tag, text, kind, parent) {
    const item = el("li", `row ${kind || ""}`.trim());
    item.append(el("span", "time", seconds(t)), el("span", `tag ${kind || ""}`.trim(), tag));
    const body = el("span", "body");
    if (text instanceof Node) body.append(text);
    else body.textContent = text;
    item.append(body);
    (parent || this.list).append(item);
    this.scroll(this.list);
    return item;
  }

  scroll(container) {
    const pane = container.closest(".scroll") || container;
    pane.scrollTop = pane.scrollHeight;
  }

  // Where a turn's details go: the turn's own list, else the latest open turn, else the top.
  within(responseId) {
    const turn = (responseId && this.turns.get(responseId)) || this.openTurn;
    return turn ? turn.querySelector(".details") : this.list;
  }

  note(text, kind = "page", t = null) {
    this.row(t, kind === "page" ? "page" : kind, text, kind);
  }

  // -- captions ---------------------------------------------------------------------------

  bubble(itemId, role) {
    let bubble = this.bubbles.get(itemId);
    if (!bubble) {
      bubble = el("div", `bubble ${role}`);
      const who = role === "user" ? "you" : this.agent || "assistant";
      bubble.append(el("div", "who", who), el("div", "text"));
      this.bubbles.set(itemId, bubble);
      this.captions.append(bubble);
    }
    return bubble;
  }

  // An assistant's delta carries `audio_ms`, the item's audio that had come before it: its
  // words are spoken from there on, so a cut before that left them unheard.
  on_caption(m) {
    const text = this.bubble(m.item_id, m.role).querySelector(".text");
    const words = el("span", null, m.delta);
    if (typeof m.audio_ms === "number") words.dataset.audioMs = String(m.audio_ms);
    text.append(words);
    this.scroll(this.captions);
  }

  // `text` null: the caption as it streamed is final. A final text that says the same keeps
  // the streamed pieces (and what they know of the audio).
  on_caption_done(m) {
    const bubble = this.bubble(m.item_id, m.role);
    const text = bubble.querySelector(".text");
    if (m.text !== null && m.text !== undefined && text.textContent !== m.text) text.textContent = m.text;
    bubble.classList.add("done");
    this.scroll(this.captions);
  }

  // -- the conversation ---------------------------------------------------------------------

  on_ready(m) {
    this.agent = m.agent;
    const what = m.resumed ? "resumed the conversation" : `talking to ${m.agent}`;
    this.row(m.t, "session", `${what} (${m.target})`, "session");
    if (m.resumed && (m.missed_events || m.missed_audio_ms)) {
      const missed = `missed while away: ${m.missed_events} events, ${m.missed_audio_ms} ms of audio`;
      this.row(m.t, "session", missed, "session");
    }
  }

  on_notice(m) {
    this.row(m.t, "note", m.text, "session");
  }

  on_speech(m) {
    const text = m.state === "started" ? `speech started at ${m.ms} ms` : `speech stopped at ${m.ms} ms`;
    this.row(m.t, "vad", text, "vad");
  }

  on_idle_timeout(m) {
    this.row(m.t, "vad", `no speech for a while (${m.audio_start_ms}-${m.audio_end_ms} ms)`, "vad");
  }

  on_agent_start(m) {
    this.agent = m.agent;
    const turn = el("li", "turn open");
    const head = el("div", "turn-head");
    head.append(
      el("span", "time", seconds(m.t)),
      el("span", "tag turn", "turn"),
      el("span", "agent", m.agent),
      el("span", "id", m.response_id),
      el("span", "status", "speaking…"),
    );
    turn.append(head, el("ol", "details"));
    this.list.append(turn);
    this.turns.set(m.response_id, turn);
    this.openTurn = turn;
    this.scroll(this.list);
  }

  on_agent_end(m) {
    const turn = this.turns.get(m.response_id);
    if (!turn) return;
    turn.classList.remove("open");
    turn.classList.add(m.status);
    turn.querySelector(".status").textContent = `${m.status} at ${seconds(m.t)} s`;
    if (this.openTurn === turn) this.openTurn = null;
  }

  on_usage(m) {
    const turn = this.turns.get(m.response_id);
    if (!turn) return;
    const tokens = `${m.total_tokens} tokens (${m.input_tokens} in, ${m.output_tokens} out)`;
    turn.querySelector(".turn-head").append(el("span", "usage", tokens));
  }

  on_tool_start(m) {
    const body = el("span", "call");
    body.append(el("code", "name", m.name), el("code", "args", shortJson(m.arguments)));
    body.append(el("span", "arrow", "→"), el("code", "output pending", "running…"));
    const row = this.row(m.t, "tool", body, "tool", this.within(null));
    this.tools.set(m.call_id, row);
  }

  on_tool_end(m) {
    const row = this.tools.get(m.call_id);
    if (!row) {
      this.row(m.t, "tool", `${m.name}: ${m.output}`, m.failed ? "error" : "tool", this.within(null));
      return;
    }
    const output = row.querySelector(".output");
    output.textContent = m.output;
    output.classList.remove("pending");
    if (m.failed) row.classList.add("error");
    this.tools.delete(m.call_id);
  }

  on_approval(m) {
    const body = el("span", "call");
    body.append(el("code", "name", m.name), el("code", "args", shortJson(m.arguments)));
    if (this.onApproval) {
      const yes = el("button", "small", "Approve");
      const no = el("button", "small", "Reject");
      const answer = (approve) => {
        yes.disabled = no.disabled = true;
        this.onApproval(m.call_id, approve);
      };
      yes.addEventListener("click", () => answer(true));
      no.addEventListener("click", () => answer(false));
      body.append(yes, no);
    }
    this.row(m.t, "approve?", body, "tool", this.within(null));
  }

  on_handoff(m) {
    this.row(m.t, "handoff", `${m.from} → ${m.to}`, "handoff", this.within(null));
    this.agent = m.to;
  }

  on_guardrail(m) {
    const text = `guardrail ${m.guardrails.join(", ")} tripped on “${m.text}”`;
    this.row(m.t, "guardrail", text, "guardrail", this.within(m.response_id));
  }

  on_interrupted(m) {
    const text = `cut at ${ms(m.audio_end_ms)}: the conversation keeps what was heard`;
    this.row(m.t, "cut", text, "cut", this.within(m.response_id));
    const bubble = this.bubbles.get(m.item_id);
    if (bubble) {
      for (const words of bubble.querySelectorAll("[data-audio-ms]")) {
        if (Number(words.dataset.audioMs) >= m.audio_end_ms) {
          words.classList.add("unheard");
          words.title = "not heard: the answer was cut before these words";
        }
      }
      bubble.classList.add("cut");
      bubble.append(el("div", "heard", `interrupted: heard ${(m.audio_end_ms / 1000).toFixed(2)} s`));
    }
  }

  on_metrics(m) {
    const parts = [];
    if (m.speech_stopped_to_first_audio_ms !== null) {
      parts.push(`end of speech → first audio ${ms(m.speech_stopped_to_first_audio_ms)}`);
      this.serverLatencies.push(m.speech_stopped_to_first_audio_ms);
    }
    if (typeof m.transcription_ms === "number") parts.push(`transcription ${ms(m.transcription_ms)}`);
    if (typeof m.first_text_to_first_audio_ms === "number") {
      parts.push(`first text → first audio ${ms(m.first_text_to_first_audio_ms)}`);
    }
    if (m.create_to_first_audio_ms !== null) {
      parts.push(`response.create → first audio ${ms(m.create_to_first_audio_ms)}`);
    }
    if (m.interrupt_to_truncate_ms !== null) {
      parts.push(`interrupt → truncated ${ms(m.interrupt_to_truncate_ms)}`);
    }
    if (parts.length) {
      this.row(m.t, "latency", `server side: ${parts.join(" · ")}`, "latency", this.within(m.response_id));
    }
    this.showLatency();
  }

  // Measured by the page: the server said the user stopped -> the answer's first sample played.
  heard(latencyMs, t) {
    this.heardLatencies.push(latencyMs);
    this.row(t, "latency", `heard: end of speech → first audio played ${ms(latencyMs)}`, "latency", this.within(null));
    this.showLatency();
  }

  showLatency() {
    const parts = [];
    const heard = this.heardLatencies;
    if (heard.length) {
      parts.push(`heard: last ${ms(heard[heard.length - 1])}, median ${ms(median(heard))} (${heard.length})`);
    }
    const server = this.serverLatencies;
    if (server.length) parts.push(`server: median ${ms(median(server))}`);
    if (this.latency) this.latency.textContent = parts.length ? `end of speech → first audio · ${parts.join(" · ")}` : "";
  }

  on_error(m) {
    const code = m.code ? `${m.code}: ` : "";
    this.row(m.t, "error", `${code}${m.message}`, "error", m.source === "session" ? this.within(null) : null);
  }

  // A normal close (1000) is no error.
  on_closed(m) {
    this.row(m.t, "session", `the conversation ended: ${m.text}`, m.code === 1000 ? "session" : "error");
    this.openTurn = null;
  }
}
