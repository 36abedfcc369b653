export { type LogLine, ServiceProcess, type SpawnOptions } from './processes.js';
export { deleteKeys, freePort, RedisServer, type RedisServerOptions } from './redis-server.js';
