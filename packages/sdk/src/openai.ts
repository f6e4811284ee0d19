/**
 * `@conductor-relay/sdk/openai`: the OpenAI SDK pointed at a gateway's inference service (the
 * gateway takes the OpenAI path shape under `/v1/{service}/...`). A subpath of its own, so that
 * importing the SDK never needs `openai` installed.
 */
import OpenAI, { type ClientOptions } from "openai";
import { type ServiceParameters, serviceUrl } from "./urls.js";

/** `conductorOpenAI`'s parameters: a service and key, plus any other option of the OpenAI client (timeouts, retries...). */
export type ConductorOpenAIParameters = ServiceParameters & Omit<ClientOptions, "apiKey" | "baseURL">;

/**
 * `new OpenAI(...)` with `baseURL` at the gateway's inference service and the relay key as its
 * API key; chat completions, streaming and model lists work unchanged.
 *
 * @example
 * import { conductorOpenAI } from "@conductor-relay/sdk/openai";
 *
 * const openai = conductorOpenAI({ gateway: "http://127.0.0.1:8787", service: "llm-local", apiKey });
 * const stream = await openai.chat.completions.create({ model: "conductor-demo-1", messages, stream: true });
 * for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta?.content ?? "");
 */
export function conductorOpenAI({ gateway, service, apiKey, ...options }: ConductorOpenAIParameters): OpenAI {
  return new OpenAI({ ...options, baseURL: serviceUrl(gateway, service), apiKey });
}
