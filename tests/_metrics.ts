/**
 * A meter provider of the OpenTelemetry SDK with an in-memory exporter, for
 * tests that read the store's metrics.
 */

import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";

/** A meter provider whose metrics a test reads when it wants. */
export class Metrics implements AsyncDisposable {
  readonly exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  readonly provider = new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({ exporter: this.exporter, exportIntervalMillis: 3_600_000 }),
    ],
  });

  /** Every data point now, by metric name. */
  async read(): Promise<Map<string, { attributes: Record<string, unknown>; value: unknown }[]>> {
    await this.provider.forceFlush();
    const exports = this.exporter.getMetrics();
    const found = new Map<string, { attributes: Record<string, unknown>; value: unknown }[]>();
    for (const scope of exports.at(-1)?.scopeMetrics ?? []) {
      for (const metric of scope.metrics) {
        found.set(
          metric.descriptor.name,
          metric.dataPoints.map((point) => ({ attributes: point.attributes, value: point.value })),
        );
      }
    }
    return found;
  }

  /** A counter's total. */
  async counter(name: string): Promise<number> {
    const points = (await this.read()).get(name) ?? [];
    return points.reduce((sum, point) => sum + (point.value as number), 0);
  }

  async [Symbol.asyncDispose]() {
    await this.provider.shutdown();
  }
}
