// The official @aws-sdk/client-bedrock-runtime pointed at the gateway as its endpoint: the SDK
// presents the gateway key as a Bedrock API key (its `token`, sent as Authorization: Bearer),
// the gateway signs the upstream call with its own AWS credentials (the mock verifies the
// SigV4 signature) and books Converse and ConverseStream from their usage, exactly.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  collect,
  kAnthropicCost,
  kAnthropicMockHeaders,
  kAnthropicUsage,
  onlyEvent,
  stackPerTest,
} from './sdk_helpers.mjs';
import { importSdk, kAwsAccessKeyId } from './stack.mjs';

const { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand } = await importSdk(
  '@aws-sdk/client-bedrock-runtime',
);

// The gateway speaks HTTP/1.1; this client defaults to HTTP/2 (for its bidirectional stream API).
const { NodeHttpHandler } = await importSdk('@smithy/node-http-handler');

const kGatewayKey = 'tg-bedrock-sdk-key';
const kModelId = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
const kRequest = {
  modelId: kModelId,
  messages: [{ role: 'user', content: [{ text: 'Say hello' }] }],
  inferenceConfig: { maxTokens: 512 },
};

function client(endpoint, headers = kAnthropicMockHeaders) {
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

// A ConverseStream response read to its end: its events' kinds (each event's one key), the text
// of its deltas, its last messageStop and its last metadata.
async function converseStream(response) {
  const items = await collect(response.stream);
  return {
    kinds: items.map((item) => Object.keys(item)[0]),
    text: items.map((item) => item.contentBlockDelta?.delta.text ?? '').join(''),
    stop: items.findLast((item) => item.messageStop)?.messageStop,
    metadata: items.findLast((item) => item.metadata)?.metadata,
  };
}

describe('@aws-sdk/client-bedrock-runtime through the gateway', () => {
  const stack = stackPerTest();

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

    const event = await onlyEvent(stack);
    assert.equal(event.provider, 'bedrock');
    assert.equal(event.model, kModelId);
    assert.equal(event.stream, false);
    assert.equal(event.outcome, 'ok');
    assert.deepEqual(event.usage, kAnthropicUsage);
    assert.equal(event.usage_source, 'provider');
    assert.equal(event.price_ref, 'node-itest-1/anthropic.claude-3-5-sonnet*');
    assert.deepEqual(event.cost, kAnthropicCost);
  });

  test('ConverseStream: the SDK decodes every event and the metadata usage is booked', async () => {
    const response = await client(stack.gateway.url).send(new ConverseStreamCommand(kRequest));
    const { kinds, text, metadata } = await converseStream(response);
    assert.deepEqual(kinds, [
      'messageStart', 'contentBlockDelta', 'contentBlockDelta', 'contentBlockDelta',
      'contentBlockDelta', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata',
    ]);
    assert.equal(text.length, 800);
    assert.equal(metadata.usage.inputTokens, 1500);
    assert.equal(metadata.usage.outputTokens, 200);
    await onlySignedCall();

    const event = await onlyEvent(stack);
    assert.equal(event.stream, true);
    assert.equal(event.outcome, 'ok');
    assert.deepEqual(event.usage, kAnthropicUsage);
    assert.equal(event.usage_source, 'provider');
    assert.deepEqual(event.cost, kAnthropicCost);
  });

  // The SDK names an error by its x-amzn-ErrorType header (then the body's "message").
  test("an upstream Bedrock error reaches the SDK as its own exception, relayed", async () => {
    const bedrock = client(stack.gateway.url, { ...kAnthropicMockHeaders, 'x-mock-status': '429' });
    await assert.rejects(bedrock.send(new ConverseCommand(kRequest)), (error) => {
      assert.equal(error.name, 'ThrottlingException');
      assert.equal(error.$metadata.httpStatusCode, 429);
      assert.match(error.message, /x-mock-status 429/);
      return true;
    });
    const event = await onlyEvent(stack);
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

// A budget that runs out while a ConverseStream runs: the gateway ends the stream with
// messageStop (stopReason max_tokens) and a metadata event, which the SDK decodes like
// Bedrock's own (docs/budgets.md "Streams").
const kBudgetYaml = `budgets:
  - { name: stream-cap, scope: {}, limit_usd: "0.01", streams: cut }
spend_state: { backend: local, default_output_tokens: 100, file: "@DIR@/spend-state.tsv" }
`;
// 2000 output tokens in 200 events, 1 ms apart: $0.01 buys about 660 of them.
const kLongStreamHeaders = {
  'x-mock-prompt-tokens': '5',
  'x-mock-completion-tokens': '2000',
  'x-mock-chunks': '200',
  'x-mock-chunk-delay-ms': '1',
};

describe('@aws-sdk/client-bedrock-runtime: a ConverseStream cut by a budget', () => {
  const stack = stackPerTest(kBudgetYaml);

  test('the stream ends with stopReason max_tokens and the usage up to the cut', async () => {
    const response = await client(stack.gateway.url, kLongStreamHeaders).send(
      new ConverseStreamCommand({ ...kRequest, inferenceConfig: { maxTokens: 100 } }),
    );
    const { kinds, stop, metadata } = await converseStream(response);
    assert.deepEqual(kinds.slice(-2), ['messageStop', 'metadata']);
    assert.ok(kinds.filter((k) => k === 'contentBlockDelta').length < 200, 'the stream was cut');
    assert.equal(stop.stopReason, 'max_tokens');

    const event = await onlyEvent(stack);
    assert.equal(event.outcome, 'budget_cut');
    assert.equal(event.limit, 'stream-cap');
    assert.equal(metadata.usage.outputTokens, event.usage.output_tokens);
    assert.ok(metadata.usage.outputTokens > 0);
  });
});
