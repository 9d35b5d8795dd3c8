// signalbox demo: a WebRTC call between two tabs through the native
// protocol v1 on /ws (docs/protocol.md). Both tabs join a room; the one
// that joins second finds the other in `members` and calls it. Every
// signaling message in and out is shown in the log.
'use strict';

const $ = (id) => document.getElementById(id);
const MAX_LOGGED_SDP = 60;

let ws = null;
let pc = null;
let channel = null;
let localStream = null;
let peer = null;
let early = [];  // candidates that came before the description

// What the page shows of a frame: its type and fields, SDPs shortened.
function summarize(message) {
  return JSON.stringify(message, (key, value) =>
    (key === 'sdp' && value.length > MAX_LOGGED_SDP ? `${value.slice(0, MAX_LOGGED_SDP)}… (${value.length} bytes)` : value));
}

function log(direction, message) {
  const item = document.createElement('li');
  item.className = direction;
  item.textContent = summarize(message);
  $('log').append(item);
  item.scrollIntoView({ block: 'nearest' });
}

function send(message) {
  log('out', message);
  ws.send(JSON.stringify(message));
}

function chat(who, text) {
  const item = document.createElement('li');
  item.textContent = `${who}: ${text}`;
  $('chat').append(item);
}

async function refreshStatus() {
  try {
    const response = await fetch('/healthz', { cache: 'no-store' });
    const health = await response.json();
    $('status-state').textContent = health.status;
    $('status-version').textContent = health.version;
    $('status-clients').textContent = health.clients;
    $('status-rooms').textContent = health.rooms;
    $('status-uptime').textContent = `${health.uptime} s`;
  } catch (error) {
    $('status-state').textContent = `unreachable (${error.message})`;
  }
}

function setChannel(dataChannel) {
  channel = dataChannel;
  const update = () => {
    $('channel-state').textContent = channel.readyState;
    const open = channel.readyState === 'open';
    $('chat-input').disabled = !open;
    $('chat-send').disabled = !open;
  };
  channel.addEventListener('open', update);
  channel.addEventListener('close', update);
  channel.addEventListener('message', ({ data }) => chat('peer', data));
  update();
}

function newPeerConnection(iceServers) {
  pc = new RTCPeerConnection({ iceServers });
  pc.addEventListener('connectionstatechange', () => {
    $('connection-state').textContent = pc.connectionState;
  });
  pc.addEventListener('icecandidate', ({ candidate }) => {
    if (peer) send({ type: 'candidate', to: peer, candidate: candidate ? candidate.toJSON() : null });
  });
  pc.addEventListener('track', ({ streams }) => { $('remote-video').srcObject = streams[0]; });
  pc.addEventListener('datachannel', ({ channel: dataChannel }) => setChannel(dataChannel));
  if (localStream) localStream.getTracks().forEach((track) => pc.addTrack(track, localStream));
}

async function setRemote(description) {
  await pc.setRemoteDescription(description);
  for (const candidate of early.splice(0)) await pc.addIceCandidate(candidate);
}

async function call(id) {
  peer = id;
  $('peer-id').textContent = id;
  setChannel(pc.createDataChannel('chat'));
  await pc.setLocalDescription(await pc.createOffer());
  send({ type: 'offer', to: peer, sdp: pc.localDescription.sdp });
}

function hangUp(tellPeer) {
  if (tellPeer && peer && ws && ws.readyState === WebSocket.OPEN) send({ type: 'hangup', to: peer });
  if (pc) pc.close();
  pc = null;
  channel = null;
  peer = null;
  early = [];
  $('peer-id').textContent = '–';
  $('connection-state').textContent = 'closed';
  $('remote-video').srcObject = null;
}

let iceServers = [];

async function onMessage(message) {
  switch (message.type) {
    case 'welcome':
      $('my-id').textContent = message.id;
      iceServers = message.iceServers || [];
      send({ type: 'join', room: $('room').value });
      break;
    case 'joined':
      refreshStatus();
      newPeerConnection(iceServers);
      if (message.members.length > 0) await call(message.members[0]);
      break;
    case 'offer':
      peer = message.from;
      $('peer-id').textContent = peer;
      await setRemote({ type: 'offer', sdp: message.sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      send({ type: 'answer', to: peer, sdp: pc.localDescription.sdp });
      break;
    case 'answer':
      await setRemote({ type: 'answer', sdp: message.sdp });
      break;
    case 'candidate':
      if (!message.candidate) break;
      if (pc.remoteDescription) await pc.addIceCandidate(message.candidate);
      else early.push(message.candidate);
      break;
    case 'hangup':
      hangUp(false);
      newPeerConnection(iceServers);
      break;
    case 'peer-joined':
      refreshStatus();
      break;
    case 'peer-left':
      refreshStatus();
      if (message.id === peer) {
        hangUp(false);
        newPeerConnection(iceServers);
      }
      break;
    default:
      break;
  }
}

async function join(event) {
  event.preventDefault();
  $('join').disabled = true;
  $('room').disabled = true;
  $('hangup').disabled = false;
  if ($('camera').checked) {
    try {
      localStream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
      $('local-video').srcObject = localStream;
    } catch (error) {
      chat('demo', `no camera (${error.message}): data channel only`);
    }
  }
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  ws = new WebSocket(`${scheme}://${location.host}/ws`);
  // One message at a time, in order: each may await the connection.
  let queue = Promise.resolve();
  ws.addEventListener('message', ({ data }) => {
    const message = JSON.parse(data);
    log('in', message);
    queue = queue.then(() => onMessage(message)).catch((error) => chat('demo', `error: ${error.message}`));
  });
  ws.addEventListener('close', () => { hangUp(false); $('connection-state').textContent = 'signaling closed'; });
}

function leave() {
  hangUp(true);
  if (ws) ws.close();
  ws = null;
  if (localStream) localStream.getTracks().forEach((track) => track.stop());
  localStream = null;
  $('local-video').srcObject = null;
  $('join').disabled = false;
  $('room').disabled = false;
  $('hangup').disabled = true;
}

$('join-form').addEventListener('submit', join);
$('hangup').addEventListener('click', leave);
$('chat-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $('chat-input').value;
  if (!text || !channel || channel.readyState !== 'open') return;
  channel.send(text);
  chat('me', text);
  $('chat-input').value = '';
});
$('room').value = decodeURIComponent(location.hash.slice(1)) || $('room').value;
refreshStatus();
setInterval(refreshStatus, 5000);
