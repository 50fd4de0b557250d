import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Subscription } from 'rxjs';
import diagnostics_channel from 'node:diagnostics_channel';
import { InjectPoller, InjectProducer, Poller, ProcessTraceContext, Producer, TRACING_CHANNELS } from '../../lib';

/** Logs, once a second, what the producers' acks$ and stats$ showed since the last line. */
@Injectable()
export class MonitorService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Monitor');
  private readonly subs = new Subscription();
  private timer?: NodeJS.Timeout;
  private acked = 0;
  private failed = 0;
  private queued = 0;
  private handled = 0;
  /** Any tracer can follow the library on its diagnostics channels; this one counts handler calls. */
  private readonly onProcessed = { asyncEnd: (ctx: ProcessTraceContext) => void (this.handled += ctx.messageCount) };
  private readonly processChannel = diagnostics_channel.tracingChannel<ProcessTraceContext, ProcessTraceContext>(TRACING_CHANNELS.process);

  constructor(
    @InjectProducer() private readonly orders: Producer,
    @InjectProducer('payments') private readonly payments: Producer,
    @InjectPoller('critical') private readonly critical: Poller,
  ) {}

  onApplicationBootstrap(): void {
    for (const p of [this.orders, this.payments]) {
      this.subs.add(p.acks$.subscribe((r) => {
        if (r.error) {
          this.failed++;
          this.logger.warn(`${r.topic}: delivery failed: ${r.error.message}`);
        } else {
          this.acked++;
          this.logger.log(`ack ${r.topic}[${r.partition}]@${r.offset}`);
        }
      }));
      this.subs.add(p.stats$.subscribe((s) => (this.queued = s.msg_cnt)));
    }
    this.processChannel.subscribe(this.onProcessed as never);
    this.timer = setInterval(() => this.report(), 1000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.report();
    this.subs.unsubscribe();
    this.processChannel.unsubscribe(this.onProcessed as never);
  }

  private report(): void {
    if (this.acked === 0 && this.failed === 0 && this.handled === 0) return;
    const m = this.critical.metrics();
    this.logger.log(`last second: ${this.acked} acked, ${this.failed} failed, ${this.queued} queued, ${this.handled} handled; ` +
      `critical poller: ${m.wakeups} wake-ups, ${m.reports} reports so far`);
    this.acked = 0;
    this.failed = 0;
    this.handled = 0;
  }
}
