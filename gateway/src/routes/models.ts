import type { ServedModel } from '@medai-flow/common';
import type { Hono, MiddlewareHandler } from 'hono';
import type { GatewayEnv } from '../http/context.js';
import { respond, respondJson } from '../http/respond.js';
import type { GatewayServices } from '../services.js';

/** A model as the API shows it: its input contract, not its preprocessing internals. */
export function describeModel({ manifest, liveWorkers }: ServedModel) {
  return {
    name: manifest.name,
    version: manifest.version,
    sha256: manifest.sha256,
    task: manifest.task,
    ...(manifest.description ? { description: manifest.description } : {}),
    inputs: manifest.inputs,
    outputs: manifest.outputs,
    labels: manifest.labels,
    accepts: manifest.accepts,
    liveWorkers,
  };
}

/**
 * JSON of each model as the API shows it. The catalog hands out the same `ServedModel` object
 * until it reads the model again, so the body is serialized once per read, not per request.
 */
const modelBodies = new WeakMap<ServedModel, string>();

function modelBody(model: ServedModel): string {
  let body = modelBodies.get(model);
  if (body === undefined) {
    body = JSON.stringify(describeModel(model));
    modelBodies.set(model, body);
  }
  return body;
}

export function registerModelRoutes(
  app: Hono<GatewayEnv>,
  services: GatewayServices,
  canRead: MiddlewareHandler<GatewayEnv>,
): void {
  app.get('/v1/models', canRead, async (c) => {
    const models = await services.catalog.list();
    return respondJson(c, { models: models.filter((model) => model.liveWorkers > 0).map(describeModel) });
  });

  app.get('/v1/models/:model', canRead, async (c) => {
    const body = modelBody(await services.catalog.require(c.req.param('model')));
    return respond(c, body, 200, { 'content-type': 'application/json' });
  });
}
