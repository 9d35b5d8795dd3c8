// Replica of the seed server (../../shared/reference), kept here as the behaviour baseline the compat tests also run against.
// Replica of seed 003: JoinSocket/LeaveSocket rooms; offer/answer/hangup/candidate broadcast to room `to`.
const port = Number(process.env.PORT || 3000);
const http = require('http');
const { Server } = require('socket.io');
const quiet = !!process.env.QUIET;
const server = http.createServer();
const io = new Server(server, { cors: { origin: '*' } });

io.on('connection', (socket) => {
  if (!quiet) console.log(`User connected: ${socket.id}`);
  socket.on('JoinSocket', (userID) => socket.join(userID));
  socket.on('LeaveSocket', (userID) => socket.leave(userID));
  socket.on('offer', (d) => io.to(d.to).emit('offer', { offer: d.offer, from: d.from }));
  socket.on('answer', (d) => io.to(d.to).emit('answer', { answer: d.answer, from: d.from }));
  socket.on('hangup', (d) => io.to(d.to).emit('hangup', { from: d.from }));
  socket.on('candidate', (d) => io.to(d.to).emit('candidate', { candidate: d.candidate, from: d.from }));
  socket.on('disconnect', () => { if (!quiet) console.log(`User disconnected: ${socket.id}`); });
});
server.listen(port);
