import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Subscription } from 'rxjs';
import { InjectPoller, InjectProducer, Poller, Producer } from '../../lib';

/** Logs, once a second, what the producers' acks$ and stats$ showed since the last line. */
@Injectable()
export class MonitorService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Monitor');
  private readonly subs = new Subscription();
  private timer?: NodeJS.Timeout;
  private acked = 0;
  private failed = 0;
  private queued = 0;

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
    this.timer = setInterval(() => this.report(), 1000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.report();
    this.subs.unsubscribe();
  }

  private report(): void {
    if (this.acked === 0 && this.failed === 0) return;
    const m = this.critical.metrics();
    this.logger.log(`last second: ${this.acked} acked, ${this.failed} failed, ${this.queued} queued; ` +
      `critical poller: ${m.wakeups} wake-ups, ${m.reports} reports so far`);
    this.acked = 0;
    this.failed = 0;
  }
}
