// Preloaded into every stdio MCP server a worker starts (`node --require`): the server exits once the
// worker that started it is gone, even when the worker was killed outright (SIGKILL, the OOM killer) and
// could not stop it. Many servers never notice their stdin closing; Linux reparents an orphan to init
// (or a subreaper), which changes process.ppid (read live from the OS on every access).
'use strict';
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 1000).unref();
