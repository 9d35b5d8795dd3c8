// Replica of the seed server (../../shared/reference), kept here as the behaviour baseline the compat tests also run against.
// Replica of seed 000: id assignment + relay of offer_sdp/answer_sdp/send_ice to a target id.
// Behaviour follows the seed document; the public original has a typo (`type + 'send_ice'`)
// that the document itself contradicts, so the documented event name is used.
const port = Number(process.env.PORT || 3000);
const io = require('socket.io')(port);
const quiet = !!process.env.QUIET;
const clients = {};

function relay(socket, data, event, pick) {
  data = JSON.parse(data);
  const target = clients[data.targetClientId];
  if (target) target.emit(event, Object.assign({ from: socket.id }, pick(data)));
  else socket.emit('error', { message: 'Target client not connected' });
}

io.on('connection', (socket) => {
  if (!quiet) console.log('New client connected:', socket.id);
  clients[socket.id] = socket;
  socket.emit('your_id', socket.id);
  socket.on('offer_sdp', (d) => relay(socket, d, 'offer_sdp', (x) => ({ sdp: x.sdp })));
  socket.on('answer_sdp', (d) => relay(socket, d, 'answer_sdp', (x) => ({ sdp: x.sdp })));
  socket.on('send_ice', (d) => relay(socket, d, 'send_ice', (x) => ({ candidate: x.candidate, mid: x.mid })));
  socket.on('disconnect', () => {
    if (!quiet) console.log('Client disconnected:', socket.id);
    delete clients[socket.id];
  });
});
