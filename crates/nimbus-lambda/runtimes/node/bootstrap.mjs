// nimbus's Lambda runtime bootstrap for the nodejs18.x .. nodejs22.x runtimes.
//
// nimbus runs it as `node bootstrap.mjs` with cwd = LAMBDA_TASK_ROOT. It loads
// the function's handler, then loops over the Lambda Runtime API
// (AWS_LAMBDA_RUNTIME_API): GET the next invocation, call the handler, POST the
// result or the error. Node's standard library only.
//
// What user code can observe (how the handler file is found, error types and
// texts, the error JSON, the context object, the patched console and its line
// format, callbacks waiting for an empty event loop, the process exiting after
// an uncaught exception) follows AWS's own Node.js runtime, because functions
// and their tests branch on those details.

import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import util from 'node:util';

const require = createRequire(import.meta.url);

const API_PREFIX = '/2018-06-01/runtime';
const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';

// ------------------------------------------------------------------ errors

// AWS names its runtime errors `Runtime.<Class>`; user code matches on them.
class ImportModuleError extends Error {}
class HandlerNotFound extends Error {}
class MalformedHandlerName extends Error {}
class UserCodeSyntaxError extends Error {}
class UnhandledPromiseRejection extends Error {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}
for (const cls of [ImportModuleError, HandlerNotFound, MalformedHandlerName, UserCodeSyntaxError, UnhandledPromiseRejection]) {
  cls.prototype.name = `Runtime.${cls.name}`;
}

function looksLikeError(obj) {
  return Boolean(
    obj && typeof obj.name === 'string' && obj.name && typeof obj.message === 'string' && obj.message &&
      typeof obj.stack === 'string' && obj.stack,
  );
}

/** The body POSTed to .../error and init/error: {errorType, errorMessage, trace}. */
function toRuntimeResponse(error) {
  try {
    if (util.types.isNativeError(error) || looksLikeError(error)) {
      return { errorType: error.name, errorMessage: error.message, trace: error.stack.split('\n') };
    }
    return { errorType: typeof error, errorMessage: error.toString(), trace: [] };
  } catch (_err) {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

// The log form of an error: a tab, then JSON that includes the non-enumerable
// name, message and stack (split into lines) next to the error's own fields.
function toFormatted(error) {
  const withProperties = (_key, value) => {
    if (!(value instanceof Error)) return value;
    const out = Object.assign({ errorType: value.name, errorMessage: value.message, code: value.code }, value);
    if (typeof value.stack === 'string') out.stack = value.stack.split('\n');
    return out;
  };
  try {
    return '\t' + JSON.stringify(error, withProperties);
  } catch (_err) {
    return '\t' + JSON.stringify(toRuntimeResponse(error));
  }
}

function intoError(err) {
  return err instanceof Error ? err : new Error(err);
}

const jsonLogFormat = process.env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === 'JSON';

// How the runtime logs an error it reports: text format prints the label and
// the formatted error; JSON format logs the error object alone.
function logError(label, err) {
  if (jsonLogFormat) console.error(intoError(err));
  else console.error(label, toFormatted(intoError(err)));
}

// ----------------------------------------------------------------- console

let currentRequestId; // printed as "undefined" before the first invocation, as on AWS

// Writes go straight to fd 1 with writeSync, so every line is in the pipe
// before the bootstrap POSTs the invocation's outcome (nimbus relies on that
// ordering to attribute log lines to the right invocation).
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

function writeStdout(text) {
  const buffer = Buffer.from(text, 'utf8');
  let offset = 0;
  while (offset < buffer.length) {
    try {
      offset += fs.writeSync(1, buffer, offset, buffer.length - offset);
    } catch (err) {
      // Once process.stdout exists, libuv has made fd 1 non-blocking: when
      // the pipe is full, sleep a millisecond (synchronously) and retry.
      if (err.code !== 'EAGAIN') throw err;
      Atomics.wait(sleepCell, 0, 0, 1);
    }
  }
}

// In JSON log entries an Error becomes its type, message and stack lines
// next to its own enumerable fields.
function jsonErrorReplacer(_key, value) {
  if (!(value instanceof Error)) return value;
  return Object.assign(
    {
      errorType: value?.constructor?.name ?? 'UnknownError',
      errorMessage: value.message,
      stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
    },
    value,
  );
}

function textLine(time, level, message, params) {
  return `${time}\t${currentRequestId}\t${level.name}\t${util.format(message, ...params)}`;
}

// AWS_LAMBDA_LOG_FORMAT=JSON: {timestamp, level, requestId, message}; a single
// argument is kept as a value (objects stay objects), several are formatted
// into one string and the first Error among them adds its error fields.
function jsonLine(time, level, message, params) {
  const entry = { timestamp: time, level: level.name, requestId: currentRequestId };
  if (params.length === 0) {
    entry.message = message;
    try {
      return JSON.stringify(entry, jsonErrorReplacer);
    } catch (_err) {
      entry.message = util.format(entry.message);
      return JSON.stringify(entry);
    }
  }
  entry.message = util.format(message, ...params);
  const error = [message, ...params].find((p) => p instanceof Error);
  if (error) {
    entry.errorType = error?.constructor?.name ?? 'UnknownError';
    entry.errorMessage = error.message;
    entry.stackTrace = typeof error.stack === 'string' ? error.stack.split('\n') : [];
  }
  return JSON.stringify(entry);
}

function patchConsole() {
  const levels = {
    TRACE: { name: 'TRACE', priority: 1 },
    DEBUG: { name: 'DEBUG', priority: 2 },
    INFO: { name: 'INFO', priority: 3 },
    WARN: { name: 'WARN', priority: 4 },
    ERROR: { name: 'ERROR', priority: 5 },
    FATAL: { name: 'FATAL', priority: 6 },
  };
  const minimum = levels[process.env.AWS_LAMBDA_LOG_LEVEL?.toUpperCase()] ?? levels.TRACE;
  const format = jsonLogFormat ? jsonLine : textLine;
  const logger = (level) => {
    if (level.priority < minimum.priority) return () => {};
    return (message, ...params) => {
      const line = format(new Date().toISOString(), level, message, params);
      // One log line per call: embedded newlines become carriage returns.
      writeStdout(line.replace(/\n/g, '\r') + '\n');
    };
  };
  console.trace = logger(levels.TRACE);
  console.debug = logger(levels.DEBUG);
  console.info = logger(levels.INFO);
  console.log = console.info;
  console.warn = logger(levels.WARN);
  console.error = logger(levels.ERROR);
  console.fatal = logger(levels.FATAL);
}

// Streams user code may write to directly; POSTs wait until they are drained.
const stdStreams = [process.stdout, process.stderr];

function whenStdStreamsFlushed(then) {
  const pending = stdStreams.filter((s) => s.writableLength > 0);
  if (pending.length === 0) return then();
  let left = pending.length;
  for (const stream of pending) stream.once('drain', () => --left === 0 && then());
}

// ------------------------------------------------------------- Runtime API

/**
 * The Runtime API over one keep-alive connection (an Agent with a single
 * socket): a warm invocation is two requests on the same socket. A request on
 * a socket the server had closed is retried once on a fresh connection.
 */
class RuntimeClient {
  constructor(address) {
    const colon = address.lastIndexOf(':');
    this.hostname = address.slice(0, colon).replace(/^\[|\]$/g, '') || '127.0.0.1';
    this.port = parseInt(address.slice(colon + 1), 10);
    // An idle keep-alive socket is unref'd by the Agent, so it never keeps
    // the event loop alive and 'beforeExit' still fires between invocations.
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  request(method, urlPath, body, headers, onDone, attempt = 1) {
    const options = { hostname: this.hostname, port: this.port, path: urlPath, method, agent: this.agent, headers };
    let settled = false;
    const finish = (err, res, text) => {
      if (settled) return;
      settled = true;
      if (err && !res && attempt === 1) return this.request(method, urlPath, body, headers, onDone, 2);
      onDone(err, res, text);
    };
    const req = http.request(options, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => finish(null, res, Buffer.concat(chunks).toString('utf8')));
      res.on('error', (err) => finish(err, res));
    });
    req.setNoDelay(true);
    // Before any response arrives (typically: the server had closed the idle
    // keep-alive socket) the request is retried once on a new connection.
    req.on('error', (err) => finish(err));
    req.end(body);
  }

  nextInvocation() {
    return new Promise((resolve, reject) => {
      this.request('GET', `${API_PREFIX}/invocation/next`, undefined, {}, (err, res, body) => {
        if (err) return reject(err);
        if (res.statusCode !== 200) {
          return reject(new Error(`GET invocation/next returned ${res.statusCode}: ${body.slice(0, 200)}`));
        }
        resolve({ headers: res.headers, bodyJson: body });
      });
    });
  }

  postInvocationResponse(result, id, callback) {
    const body = serializeResponse(result);
    this.post(`${API_PREFIX}/invocation/${encodeURIComponent(id)}/response`, body, {}, callback);
  }

  postInvocationError(error, id, callback) {
    const response = toRuntimeResponse(error);
    this.post(
      `${API_PREFIX}/invocation/${encodeURIComponent(id)}/error`,
      serializeResponse(response),
      { [ERROR_TYPE_HEADER]: headerValue(response.errorType) },
      callback,
    );
  }

  postInitError(error, callback) {
    const response = toRuntimeResponse(error);
    const headers = { [ERROR_TYPE_HEADER]: headerValue(response.errorType) };
    this.post(`${API_PREFIX}/init/error`, serializeResponse(response), headers, callback);
  }

  post(urlPath, body, headers, callback) {
    const allHeaders = Object.assign(
      { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      headers,
    );
    whenStdStreamsFlushed(() =>
      this.request('POST', urlPath, body, allHeaders, (err, res, text) => {
        if (err) return fatal(`POST ${urlPath} failed: ${err.message}`);
        if (res.statusCode >= 500) {
          // "Container error. Non-recoverable state. Runtime should exit promptly."
          return fatal(`POST ${urlPath} returned ${res.statusCode}: ${text.slice(0, 200)}`);
        }
        if (res.statusCode >= 300) {
          // 400/403/413: the server refused this outcome and has already failed
          // the invocation; the environment itself is still usable.
          process.stderr.write(`nimbus runtime: POST ${urlPath} returned ${res.statusCode}: ${text.slice(0, 500)}\n`);
        }
        callback();
      }),
    );
  }
}

// Node throws on header text outside printable ASCII (or undefined), and an
// error's name is whatever user code set it to.
function headerValue(value) {
  return String(value ?? '').replace(/[^\x20-\x7e]/g, '?');
}

function serializeResponse(body) {
  let text;
  try {
    text = JSON.stringify(body === undefined ? null : body);
  } catch (_err) {
    throw new Error('Unable to stringify response body');
  }
  // A function or symbol has no JSON text at all; it reads as null.
  return text === undefined ? 'null' : text;
}

function fatal(message) {
  process.stderr.write(`nimbus runtime: ${message}\n`);
  process.exit(1);
}

// ------------------------------------------------------ response streaming

// awslambda.streamifyResponse(handler) marks a handler that writes its
// response to a stream: handler(event, responseStream, context). The stream
// is POSTed to .../response in Lambda's streaming mode (chunked, errors in
// trailers). awslambda.HttpResponseStream.from(stream, {statusCode,
// headers, cookies}) starts it with the prelude a function URL reads.
const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HTTP_INTEGRATION = 'application/vnd.awslambda.http-integration-response';

class HttpResponseStream {
  static from(underlying, prelude) {
    underlying.setContentType(HTTP_INTEGRATION);
    underlying.write(JSON.stringify(prelude ?? {}));
    underlying.write(new Uint8Array(8));
    return underlying;
  }
}

globalThis.awslambda = {
  streamifyResponse(handler, options) {
    if (typeof handler !== 'function') throw new TypeError('handler must be a function');
    handler[STREAMING] = 'response';
    if (options?.highWaterMark) handler.streamHighWaterMark = options.highWaterMark;
    return handler;
  },
  HttpResponseStream,
};

/**
 * The response stream of one invocation: a Writable whose bytes go out as
 * the chunked body of POST .../response. `done` runs once the Runtime API
 * has answered. Failing it reports the error in the trailers (or, before
 * anything was written, as an ordinary /error).
 */
function responseStream(client, id, highWaterMark, done) {
  const urlPath = `${API_PREFIX}/invocation/${encodeURIComponent(id)}/response`;
  const req = http.request({
    hostname: client.hostname,
    port: client.port,
    path: urlPath,
    method: 'POST',
    agent: client.agent,
    headers: {
      'Lambda-Runtime-Function-Response-Mode': 'streaming',
      'Transfer-Encoding': 'chunked',
      Trailer: 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
      'Content-Type': 'application/octet-stream',
    },
  });
  req.setNoDelay(true);
  let answered = false;
  const finish = (err, status) => {
    if (answered) return;
    answered = true;
    if (err) return fatal(`POST ${urlPath} failed: ${err.message}`);
    if (status >= 500) return fatal(`POST ${urlPath} returned ${status}`);
    done();
  };
  req.on('response', (res) => {
    res.resume();
    res.on('end', () => finish(null, res.statusCode));
  });
  req.on('error', (err) => finish(err));
  let wrote = false;
  const stream = new Writable({
    highWaterMark,
    write(chunk, encoding, callback) {
      wrote = true;
      req.write(chunk, encoding, callback);
    },
    final(callback) {
      whenStdStreamsFlushed(() => req.end(callback));
    },
  });
  stream.setContentType = (contentType) => {
    if (wrote) throw new Error('setContentType must be called before writing to the stream');
    req.setHeader('Content-Type', contentType);
  };
  stream.fail = (error) => {
    logError('Invoke Error', error);
    const response = toRuntimeResponse(error);
    if (!wrote && !stream.writableEnded) {
      // Nothing sent yet: an ordinary error, as for a buffered handler.
      req.destroy();
      answered = true;
      client.postInvocationError(error, id, done);
      return;
    }
    req.addTrailers({
      'Lambda-Runtime-Function-Error-Type': headerValue(response.errorType),
      'Lambda-Runtime-Function-Error-Body': Buffer.from(serializeResponse(response)).toString('base64'),
    });
    if (!stream.writableEnded) stream.end();
  };
  return stream;
}

// ---------------------------------------------------------- handler loading

const FUNCTION_EXPR = /^([^.]*)\.(.*)$/;

function tryRequire(file) {
  return fs.existsSync(file) ? require(file) : undefined;
}

async function tryImport(file) {
  return fs.existsSync(file) ? await import(pathToFileURL(file).href) : undefined;
}

// Whether the nearest package.json above `folder` says "type": "module"; the
// search stops at a node_modules folder or at the root.
function folderIsTypeModule(folder) {
  if (folder.endsWith('/node_modules')) return false;
  const packageJson = path.join(folder, 'package.json');
  if (fs.existsSync(packageJson)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(packageJson));
      if (pkg) return pkg.type === 'module';
    } catch (e) {
      console.warn(`${packageJson} cannot be read, it will be ignored for ES module detection purposes.`, e);
      return false;
    }
  }
  if (folder === '/') return false;
  return folderIsTypeModule(path.resolve(folder, '..'));
}

// AWS's order: the extensionless file (CommonJS), .js via require unless the
// package is "type": "module", then .js as ESM, .mjs, .cjs, and last Node's own
// resolution from the task root (node_modules, directories with index.js).
async function loadModule(appRoot, moduleRoot, moduleName) {
  const base = path.resolve(appRoot, moduleRoot, moduleName);
  const extensionless = tryRequire(base);
  if (extensionless) return extensionless;
  const typeModule = folderIsTypeModule(path.dirname(base));
  if (!typeModule) {
    const loaded = tryRequire(base + '.js');
    if (loaded) return loaded;
  }
  const loaded =
    (typeModule && (await tryImport(base + '.js'))) || (await tryImport(base + '.mjs')) || tryRequire(base + '.cjs');
  if (loaded) return loaded;
  return require(require.resolve(moduleName, { paths: [appRoot, moduleRoot] }));
}

async function loadHandler(appRoot, fullHandler) {
  if (fullHandler.includes('..')) {
    throw new MalformedHandlerName(
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const handlerString = path.basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(handlerString));
  const match = handlerString.match(FUNCTION_EXPR);
  if (!match || match.length !== 3) throw new MalformedHandlerName('Bad handler');
  const [, moduleName, handlerPath] = match;

  let userModule;
  try {
    userModule = await loadModule(appRoot, moduleRoot, moduleName);
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserCodeSyntaxError(e);
    if (e.code === 'MODULE_NOT_FOUND') throw new ImportModuleError(e);
    throw e;
  }
  const handler = handlerPath.split('.').reduce((nested, key) => nested && nested[key], userModule);
  if (!handler) throw new HandlerNotFound(`${fullHandler} is undefined or not exported`);
  if (typeof handler !== 'function') throw new HandlerNotFound(`${fullHandler} is not a function`);
  return handler;
}

// -------------------------------------------------------------- invocation

// What runs when the event loop empties (process 'beforeExit'): the pending
// response of a callback that waits for an empty loop, or the default
// response for a handler that never answered.
let beforeExit = () => {};
process.on('beforeExit', () => beforeExit());

function parseJsonHeader(text, name) {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${err.toString()}`);
  }
}

/**
 * The callback, and the part of the context holding succeed/fail/done and
 * callbackWaitsForEmptyEventLoop. Only the first of these calls counts.
 */
function buildCallbackContext(client, id, scheduleNext) {
  const postError = (err, then) => {
    logError('Invoke Error', err);
    client.postInvocationError(err, id, then);
  };
  let completed = false;
  const complete = (result, then) => {
    if (completed) {
      console.error('Invocation has already been reported as done. Cannot call complete more than once per invocation.');
      return;
    }
    completed = true;
    client.postInvocationResponse(result, id, then);
  };
  let waitForEmptyEventLoop = true;
  const callback = (err, result) => {
    beforeExit = () => {};
    if (err !== undefined && err !== null) {
      postError(err, scheduleNext);
    } else if (!waitForEmptyEventLoop) {
      complete(result, scheduleNext);
    } else {
      beforeExit = () => setImmediate(() => complete(result, scheduleNext));
    }
  };
  const done = (err, result) => {
    beforeExit = () => {};
    if (err !== undefined && err !== null) postError(err, scheduleNext);
    else complete(result, scheduleNext);
  };
  const context = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      waitForEmptyEventLoop = value;
    },
    succeed: (result) => done(null, result),
    fail: (err) => (err === undefined || err === null ? done('handled') : done(err, null)),
    done,
  };

  // A call that throws (an unserializable result) does not count as the
  // first call, so the error path can still report it.
  let finished = false;
  const once = (fn) =>
    function (...args) {
      if (finished) return;
      fn(...args);
      finished = true;
    };
  context.succeed = once(context.succeed);
  context.fail = once(context.fail);
  context.done = once(context.done);
  return { callback: once(callback), context, markCompleted: () => (completed = true) };
}

class Runtime {
  constructor(client, handler, errorCallbacks) {
    this.client = client;
    this.handler = handler;
    this.errorCallbacks = errorCallbacks;
  }

  scheduleIteration() {
    setImmediate(() =>
      this.handleOnce().catch((err) => {
        console.log(`Unexpected Top Level Error: ${err.toString()}`);
        this.errorCallbacks.uncaughtException(err);
      }),
    );
  }

  async handleOnce() {
    const { bodyJson, headers } = await this.client.nextInvocation();
    const id = headers['lambda-runtime-aws-request-id'];
    currentRequestId = id;
    const { callback, context, markCompleted } = buildCallbackContext(this.client, id, () => this.scheduleIteration());

    // An uncaught exception or unhandled rejection from here on fails this
    // invocation, and the process exits (nimbus then starts a new one).
    this.errorCallbacks.uncaughtException = (error) => this.client.postInvocationError(error, id, () => process.exit(129));
    this.errorCallbacks.unhandledRejection = (error) => this.client.postInvocationError(error, id, () => process.exit(128));
    // A handler that never answers gets a null response once the loop is empty.
    beforeExit = () => {
      markCompleted();
      this.client.postInvocationResponse(null, id, () => this.scheduleIteration());
    };

    if (this.handler[STREAMING]) {
      const stream = responseStream(this.client, id, this.handler.streamHighWaterMark, () => this.scheduleIteration());
      // A handler that never ends its stream has it ended once the loop is empty.
      beforeExit = () => {
        beforeExit = () => {};
        if (!stream.writableEnded) stream.end();
      };
      try {
        const result = this.handler(JSON.parse(bodyJson), stream, attachInvokeData(context, headers));
        Promise.resolve(result).then(
          () => !stream.writableEnded && stream.end(),
          (err) => stream.fail(err),
        );
      } catch (err) {
        stream.fail(err);
      }
      return;
    }

    try {
      const result = this.handler(JSON.parse(bodyJson), attachInvokeData(context, headers), callback);
      if (result && typeof result.then === 'function') {
        result.then(context.succeed, context.fail).catch(context.fail);
      }
    } catch (err) {
      callback(err);
    }
  }
}

function attachInvokeData(context, headers) {
  const traceId = headers['lambda-runtime-trace-id'];
  if (traceId) process.env._X_AMZN_TRACE_ID = traceId;
  else delete process.env._X_AMZN_TRACE_ID;
  const deadline = headers['lambda-runtime-deadline-ms'];
  return Object.assign(
    context,
    {
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    },
    {
      clientContext: parseJsonHeader(headers['lambda-runtime-client-context'], 'ClientContext'),
      identity: parseJsonHeader(headers['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
      invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
      awsRequestId: headers['lambda-runtime-aws-request-id'],
      getRemainingTimeInMillis: () => deadline - Date.now(),
    },
  );
}

// -------------------------------------------------------------------- main

async function main() {
  patchConsole();
  const client = new RuntimeClient(process.env.AWS_LAMBDA_RUNTIME_API);

  // Until the first invocation, a failure is an init error.
  const errorCallbacks = {
    uncaughtException: (error) => client.postInitError(error, () => process.exit(129)),
    unhandledRejection: (error) => client.postInitError(error, () => process.exit(128)),
  };
  process.on('uncaughtException', (error) => {
    logError('Uncaught Exception', error);
    errorCallbacks.uncaughtException(error);
  });
  process.on('unhandledRejection', (reason, promise) => {
    const error = new UnhandledPromiseRejection(reason, promise);
    logError('Unhandled Promise Rejection', error);
    errorCallbacks.unhandledRejection(error);
  });

  let handler;
  try {
    handler = await loadHandler(process.env.LAMBDA_TASK_ROOT || process.cwd(), process.env._HANDLER || '');
  } catch (error) {
    logError('Uncaught Exception', error);
    errorCallbacks.uncaughtException(error);
    return;
  }
  new Runtime(client, handler, errorCallbacks).scheduleIteration();
}

main();
