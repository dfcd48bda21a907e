// The official @aws-sdk/client-bedrock-runtime pointed at the gateway as its endpoint: the SDK
// presents the gateway key as a Bedrock API key (its `token`, sent as Authorization: Bearer),
// the gateway signs the upstream call with its own AWS credentials (the mock verifies the
// SigV4 signature) and books Converse and ConverseStream from their usage, exactly.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';

import { importSdk, kAwsAccessKeyId, Stack } from './stack.mjs';

const { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand } = await importSdk(
  '@aws-sdk/client-bedrock-runtime',
);

// The gateway speaks HTTP/1.1; this client defaults to HTTP/2 (for its bidirectional stream API).
const { NodeHttpHandler } = await importSdk('@smithy/node-http-handler');

const kGatewayKey = 'tg-bedrock-sdk-key';
const kModelId = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
// 3000 input tokens of which 1000 are cache reads and 500 cache writes; 200 output tokens.
const kMockHeaders = {
  'x-mock-prompt-tokens': '3000',
  'x-mock-cached-tokens': '1000',
  'x-mock-cache-write-tokens': '500',
  'x-mock-completion-tokens': '200',
  'x-mock-chunks': '5',
};
const kUsage = {
  input_tokens: 3000,
  cache_read_tokens: 1000,
  cache_write_tokens: 500,
  output_tokens: 200,
  reasoning_tokens: 0,
};
const kCost = {
  currency: 'USD',
  input: '0.0045',
  cache_read: '0.0003',
  cache_write: '0.001875',
  output: '0.003',
  total: '0.009675',
};
const kRequest = {
  modelId: kModelId,
  messages: [{ role: 'user', content: [{ text: 'Say hello' }] }],
  inferenceConfig: { maxTokens: 512 },
};

function client(endpoint, headers = kMockHeaders) {
  const bedrock = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint,
    token: { token: kGatewayKey },
    authSchemePreference: ['httpBearerAuth'],
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler(),
  });
  // The mock's knobs only: the SDK's own request is otherwise unchanged.
  bedrock.middlewareStack.add(
    (next) => async (args) => {
      Object.assign(args.request.headers, headers);
      return next(args);
    },
    { step: 'build', name: 'mockKnobs' },
  );
  return bedrock;
}

describe('@aws-sdk/client-bedrock-runtime through the gateway', () => {
  let stack;

  beforeEach(async () => {
    stack = await Stack.start();
  });

  afterEach(async () => {
    const problems = (await stack?.close()) ?? [];
    stack = undefined;
    assert.deepEqual(problems, [], 'the gateway and the mock exit cleanly on SIGTERM');
  });

  async function onlyEvent() {
    const events = await stack.waitForEvents(1);
    assert.equal(events.length, 1, `expected one cost event, got ${JSON.stringify(events)}`);
    return events[0].data;
  }

  async function onlySignedCall() {
    const calls = await stack.mockCalls();
    assert.equal(calls.length, 1);
    const [call] = calls;
    assert.equal(call.status, 200, 'the mock verified the gateway\'s signature');
    assert.match(
      call.headers.authorization,
      new RegExp(`^AWS4-HMAC-SHA256 Credential=${kAwsAccessKeyId}/\\d{8}/us-east-1/bedrock/aws4_request, `),
    );
    assert.ok(!JSON.stringify(call).includes(kGatewayKey), 'the gateway key is not forwarded');
    return call;
  }

  test('Converse: the SDK reads the answer and the event books its usage', async () => {
    const response = await client(stack.gateway.url).send(new ConverseCommand(kRequest));
    assert.equal(response.stopReason, 'end_turn');
    assert.equal(response.output.message.content[0].text.length, 800);
    assert.deepEqual(
      {
        inputTokens: response.usage.inputTokens,
        outputTokens: response.usage.outputTokens,
        totalTokens: response.usage.totalTokens,
        cacheReadInputTokens: response.usage.cacheReadInputTokens,
        cacheWriteInputTokens: response.usage.cacheWriteInputTokens,
      },
      {
        inputTokens: 1500,
        outputTokens: 200,
        totalTokens: 3200,
        cacheReadInputTokens: 1000,
        cacheWriteInputTokens: 500,
      },
    );
    const call = await onlySignedCall();
    assert.equal(call.target, '/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse');

    const event = await onlyEvent();
    assert.equal(event.provider, 'bedrock');
    assert.equal(event.model, kModelId);
    assert.equal(event.stream, false);
    assert.equal(event.outcome, 'ok');
    assert.deepEqual(event.usage, kUsage);
    assert.equal(event.usage_source, 'provider');
    assert.equal(event.price_ref, 'node-itest-1/anthropic.claude-3-5-sonnet*');
    assert.deepEqual(event.cost, kCost);
  });

  test('ConverseStream: the SDK decodes every event and the metadata usage is booked', async () => {
    const response = await client(stack.gateway.url).send(new ConverseStreamCommand(kRequest));
    const kinds = [];
    let text = '';
    let metadata;
    for await (const item of response.stream) {
      const [kind] = Object.keys(item);
      kinds.push(kind);
      if (kind === 'contentBlockDelta') text += item.contentBlockDelta.delta.text;
      if (kind === 'metadata') metadata = item.metadata;
    }
    assert.deepEqual(kinds, [
      'messageStart', 'contentBlockDelta', 'contentBlockDelta', 'contentBlockDelta',
      'contentBlockDelta', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata',
    ]);
    assert.equal(text.length, 800);
    assert.equal(metadata.usage.inputTokens, 1500);
    assert.equal(metadata.usage.outputTokens, 200);
    await onlySignedCall();

    const event = await onlyEvent();
    assert.equal(event.stream, true);
    assert.equal(event.outcome, 'ok');
    assert.deepEqual(event.usage, kUsage);
    assert.equal(event.usage_source, 'provider');
    assert.deepEqual(event.cost, kCost);
  });

  // The SDK names an error by its x-amzn-ErrorType header (then the body's "message").
  test("an upstream Bedrock error reaches the SDK as its own exception, relayed", async () => {
    const bedrock = client(stack.gateway.url, { ...kMockHeaders, 'x-mock-status': '429' });
    await assert.rejects(bedrock.send(new ConverseCommand(kRequest)), (error) => {
      assert.equal(error.name, 'ThrottlingException');
      assert.equal(error.$metadata.httpStatusCode, 429);
      assert.match(error.message, /x-mock-status 429/);
      return true;
    });
    const event = await onlyEvent();
    assert.equal(event.outcome, 'upstream_error');
    assert.equal(event.status, 429);
  });

  test("the gateway's own errors on Bedrock paths reach the SDK as AWS exceptions", async () => {
    const bedrock = client(stack.gateway.url);
    await assert.rejects(
      bedrock.send(new ConverseCommand({ ...kRequest, modelId: 'unknown.model-v1:0' })),
      (error) => {
        assert.equal(error.name, 'ResourceNotFoundException');
        assert.equal(error.$metadata.httpStatusCode, 404);
        assert.match(error.message, /unknown\.model-v1:0/);
        return true;
      },
    );
    assert.deepEqual(await stack.mockCalls(), []);
  });
});
