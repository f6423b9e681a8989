/**
 * Integration tests: a real KRaft broker and real Connect worker(s) in the test JVM, real HTTP on loopback.
 * <ul>
 * <li>{@link io.github.cohortsync.connect.it.ConnectCluster} on the class gives it its own cluster (Failsafe forks a
 * JVM per class) and fills its {@code static ConnectHarness} field; {@link io.github.cohortsync.connect.it.PerTest}
 * on a {@code WebhookReceiver} field starts a fresh webhook stand-in per test, and
 * {@link io.github.cohortsync.connect.it.ConnectorName} on a {@code String} field gives each test a unique connector
 * name, deleted after the test (see {@link io.github.cohortsync.connect.it.ConnectClusterExtension}).</li>
 * <li>{@link io.github.cohortsync.connect.it.ConnectorConfig} builds a connector config per destination
 * ({@code webhook}, {@code segment}, {@code iterable}, {@code cleverTap}, {@code braze},
 * {@code brazeCohortImport}); every config is diffs only unless {@code fullSyncs(bootstrapServers)} is called.</li>
 * <li>The stand-ins of the destinations' APIs are in {@code it.standin}, one {@code <Destination>Receiver} each, on
 * {@code StandIn} (a MockWebServer on loopback, {@code url()}, {@code violations()}) or {@code ThrottlingStandIn}
 * (adds {@code throttleNext(n)}); each keeps its vendor's rules, with their sources, in its own class.</li>
 * <li>{@link io.github.cohortsync.connect.it.TwoPhaseSync} is the adds-then-removals sync with two dead letters
 * that several destination ITs run against their stand-in.</li>
 * <li>{@code ContainerConnectIT} runs the plugin zip in a Kafka Connect container and is skipped without Docker.</li>
 * </ul>
 */
package io.github.cohortsync.connect.it;
