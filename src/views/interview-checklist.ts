/**
 * The requirements and trade-off checklist of the interview panel: the topics the notes say an interviewer probes,
 * each with the sentence to say and the built-in scenarios that show it happen. Plain data; a unit test checks that
 * every linked scenario id exists in src/scenarios/index.ts and that ids are unique.
 */

export interface ChecklistLink {
  /** A built-in scenario id. */
  scenario: string;
  /** What the link shows, short. */
  label: string;
}

export interface ChecklistItem {
  /** Stable: ticks are stored by it. */
  id: string;
  topic: string;
  /** The term, taught: the item's tooltip. */
  term: string;
  /** The interview sentence. */
  say: string;
  links: readonly ChecklistLink[];
}

export const CHECKLIST: readonly ChecklistItem[] = [
  {
    id: 'requirements',
    topic: 'Requirements: 3–4, each provable',
    term: 'Requirements: a short list of actionable goals. The design never gets built, so pick few and show where the design meets each one.',
    say: 'Three requirements: ingest every server’s metrics each second, serve the stored dashboard queries within seconds, and never lose or double-count a sample — here is where the design proves each.',
    links: [{ scenario: 'apm-baseline', label: 'the APM pipeline end to end' }],
  },
  {
    id: 'ap-cp',
    topic: 'AP vs CP',
    term: 'AP vs CP (the CAP theorem): during a network partition a system either stays Available, answering with data that may be stale, or stays Consistent, refusing what it cannot make safe.',
    say: 'The queue’s log is CP: during a partition only the side with a majority commits, so we never acknowledge a write we could lose. Reading from followers would be the AP choice: always an answer, maybe stale.',
    links: [
      { scenario: 'lesson-ap-reads', label: 'AP: follower reads stay available and go stale' },
      { scenario: 'lesson-cp-reads', label: 'CP: reads through the leader refuse on the minority side' },
      { scenario: 'raft-minority-partition', label: 'a leader cut off in a minority cannot commit' },
    ],
  },
  {
    id: 'replication',
    topic: 'Replication and leader election',
    term: 'Replication group: an odd number of brokers holding one partition; one leader takes the writes, followers copy them and elect a new leader when heartbeats stop.',
    say: 'Each partition is a group of three replicas with one leader per term; if the leader dies, a follower with the whole log wins the next term and producers retry there.',
    links: [{ scenario: 'raft-leader-crash', label: 'failover after a leader crash' }],
  },
  {
    id: 'processing',
    topic: 'Online, batch or stream',
    term: 'Online: answer each request from live data. Batch: process everything gathered so far on a schedule (high throughput, stale by up to the interval). Stream: process each event as it arrives (seconds of staleness, continuous work).',
    say: 'The dashboard needs results within seconds, not at the next batch run, and re-reading everything per refresh will not scale: so we process it as a stream, updating windowed results as events arrive.',
    links: [
      { scenario: 'lesson-online', label: 'online: fresh, but every refresh re-reads everything' },
      { scenario: 'lesson-batch', label: 'batch: cheap, stale up to the interval' },
      { scenario: 'lesson-stream', label: 'stream: seconds of staleness, steady work' },
    ],
  },
  {
    id: 'smart-broker',
    topic: 'Smart broker or partitioned log',
    term: 'A smart broker (RabbitMQ, JMS) keeps small in-memory queues and deletes on ack; a partitioned log (Kafka) appends to disk, keeps data for its retention and lets each consumer group track its own offset.',
    say: 'Under a high-velocity stream a slow consumer must not cost us data, and a new consumer may need history: so a partitioned log, where a backlog is just an offset behind and replay is a seek.',
    links: [
      { scenario: 'lesson-smart-broker', label: 'a full broker queue drops orders' },
      { scenario: 'lesson-partitioned-log', label: 'the log absorbs the backlog and replays' },
    ],
  },
  {
    id: 'push-pull',
    topic: 'Push vs pull',
    term: 'Push: the broker sends messages to consumers (it protects its own memory). Pull: consumers ask when ready (it protects the consumer’s CPU).',
    say: 'We choose pull for a stream: the consumer asks for the next batch when it is ready, so a spike waits in the queue instead of overrunning the consumer.',
    links: [
      { scenario: 'mq-push-spike', label: 'push overruns a slow consumer' },
      { scenario: 'mq-pull-spike', label: 'pull smooths the same spike' },
    ],
  },
  {
    id: 'delivery',
    topic: 'Delivery semantics',
    term: 'Delivery semantics: at most once (acks ≤ 1: may lose), at least once (acks ≥ 1: may duplicate), exactly once (at least once plus an idempotent or transactional consumer).',
    say: 'We deliver at least once and make the sink idempotent by message id, which gives exactly-once effects without distributed transactions.',
    links: [
      { scenario: 'mq-at-most-once', label: 'at most once: loss' },
      { scenario: 'mq-at-least-once', label: 'at least once: duplicates' },
      { scenario: 'mq-exactly-once', label: 'exactly once: an idempotent sink' },
    ],
  },
  {
    id: 'acks',
    topic: 'Producer acks',
    term: 'acks: when the broker confirms a write to the producer — after the leader alone has it (acks=1) or after a majority of replicas has it (acks=all).',
    say: 'Producers wait for acks=all: a write is confirmed once a majority of replicas has it, so a leader crash loses nothing we acknowledged; acks=1 is faster and can.',
    links: [
      { scenario: 'mq-acks-leader', label: 'acks=1 loses acknowledged writes' },
      { scenario: 'mq-acks-quorum', label: 'acks=all loses none' },
    ],
  },
  {
    id: 'partitions',
    topic: 'Partitions and keys',
    term: 'Partition key: the field hashed to pick a message’s partition. One key always lands on one partition, so its messages stay in order — and a busy key makes a hot partition.',
    say: 'We partition by key so each key’s messages stay ordered on one partition; the price is a hot partition when one key dominates, which we watch for.',
    links: [{ scenario: 'mq-hot-key', label: 'key-hash ordering and a hot partition' }],
  },
  {
    id: 'load-balancer',
    topic: 'Load-balancer policy',
    term: 'Round robin sends requests in turn regardless of load; least-busy asks each backend for its load (at a cost) and picks the least loaded.',
    say: 'We can do round robin or least-busy; we do least-busy because one slow ingestion server would otherwise set our tail latency, and polling load is cheap next to that.',
    links: [
      { scenario: 'apm-lb-round-robin', label: 'round robin feeds a straggler' },
      { scenario: 'apm-lb-least-busy', label: 'least-busy steers around it' },
    ],
  },
  {
    id: 'backoff',
    topic: 'Retries and backoff',
    term: 'Exponential backoff: wait 10, 20, 40, 80 ms between retries, with random jitter so clients that failed together do not retry together (the thundering herd).',
    say: 'Agents retry with exponential backoff and jitter, so a rack coming back does not stampede ingestion the way fixed-interval retries do.',
    links: [
      { scenario: 'apm-outage-backoff', label: 'backoff with jitter' },
      { scenario: 'apm-outage-fixed', label: 'fixed retries: the herd' },
    ],
  },
  {
    id: 'windows',
    topic: 'Windowing and lateness',
    term: 'Event-time windows close when the watermark passes their end; allowed lateness keeps them open a little longer so late samples still count instead of being dropped.',
    say: 'We aggregate in event-time windows with a watermark and allow a few seconds of lateness, so samples delayed by retries still land in the window they belong to.',
    links: [{ scenario: 'apm-late-data', label: 'the watermark and LATENESS 3s' }],
  },
  {
    id: 'percentiles',
    topic: 'Percentiles',
    term: 'Percentiles do not average: the p99 of the whole is not the mean of the partitions’ p99s. Mergeable sketches (DDSketch) add up and answer any percentile within a known error.',
    say: 'Each partition keeps a DDSketch and the dashboard merges the sketches, because averaging per-partition p99s hides exactly the tail we are asked about.',
    links: [{ scenario: 'apm-percentiles', label: 'average of p99s vs merged sketch' }],
  },
  {
    id: 'autoscaling',
    topic: 'Autoscaling',
    term: 'Autoscaling on lag: add consumers while messages waiting grow faster than they are consumed, remove them when idle — at most one consumer per partition.',
    say: 'We scale the aggregators on consumer lag, up to one per partition; beyond that only more partitions help, so we size partitions for the peak.',
    links: [{ scenario: 'apm-autoscale', label: 'lag grows, aggregators added' }],
  },
  {
    id: 'capacity',
    topic: 'Capacity estimate',
    term: 'Back-of-envelope capacity: throughput = servers × metrics × bytes; partitions = throughput ÷ one broker’s throughput, rounded up; brokers = partitions × replicas.',
    say: '10,000 servers × 2,000 metrics × 16 bytes is 320 MB/s; at about 100 MB/s a broker that is 4 partitions, and with three replicas each, 12 brokers.',
    links: [{ scenario: 'apm-capacity', label: 'the sized queue, scaled 1:500' }],
  },
];

/** Every scenario id the checklist links to, for the test that checks they exist. */
export function linkedScenarios(items: readonly ChecklistItem[] = CHECKLIST): string[] {
  return [...new Set(items.flatMap((i) => i.links.map((l) => l.scenario)))];
}
