// Preload (node -r ./bench/loopback-only.js ...): makes every server the
// process starts listen on 127.0.0.1 only, so the Node replicas, which
// listen on all interfaces, can be benchmarked without being exposed.
'use strict';
const net = require('net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' || typeof args[0] === 'string') {
    const port = args.shift();
    const cb = typeof args[args.length - 1] === 'function' ? args.pop() : undefined;
    return listen.call(this, { port: Number(port), host: '127.0.0.1' }, cb);
  }
  if (args[0] && typeof args[0] === 'object' && args[0].port !== undefined) {
    args[0] = Object.assign({}, args[0], { host: '127.0.0.1' });
  }
  return listen.apply(this, args);
};
