package io.github.cohortsync.connect.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import javax.net.SocketFactory;

import org.junit.jupiter.api.Test;

import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Call;
import okhttp3.Connection;
import okhttp3.EventListener;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

class HttpClientsTest {

    @Test
    void connectionsOfTheTasksClientHaveNaglesAlgorithmOff() throws Exception {
        List<Boolean> noDelay = new ArrayList<>();
        OkHttpClient client = HttpClients.create(2_000).newBuilder()
                .eventListener(new EventListener() {
                    @Override
                    public void connectionAcquired(Call call, Connection connection) {
                        try {
                            noDelay.add(connection.socket().getTcpNoDelay());
                        } catch (IOException e) {
                            throw new AssertionError(e);
                        }
                    }
                })
                .build();
        try (MockWebServer server = new MockWebServer()) {
            server.start();
            server.enqueue(new MockResponse(200, okhttp3.Headers.of(), "{}"));
            Request request = new Request.Builder().url(server.url("/hook"))
                    .post(RequestBody.create(new byte[200_000], null)).build();
            try (Response response = client.newCall(request).execute()) {
                assertThat(response.code()).isEqualTo(200);
            }
            assertThat(server.takeRequest().getBodySize()).isEqualTo(200_000);
        } finally {
            HttpClients.close(client);
        }
        assertThat(noDelay).containsExactly(true);
    }

    @Test
    void everyKindOfSocketTheFactoryMakesHasNaglesAlgorithmOff() throws Exception {
        NoDelaySocketFactory factory = new NoDelaySocketFactory(SocketFactory.getDefault());
        try (java.net.ServerSocket listener = new java.net.ServerSocket(0, 5,
                java.net.InetAddress.getLoopbackAddress())) {
            java.net.InetAddress host = listener.getInetAddress();
            int port = listener.getLocalPort();
            List<Socket> sockets = List.of(factory.createSocket(),
                    factory.createSocket(host.getHostAddress(), port),
                    factory.createSocket(host.getHostAddress(), port, host, 0),
                    factory.createSocket(host, port),
                    factory.createSocket(host, port, host, 0));
            for (Socket socket : sockets) {
                try (socket) {
                    assertThat(socket.getTcpNoDelay()).isTrue();
                }
            }
        }
    }

    /**
     * Sixteen calls in flight at once (the receiver answers none until all sixteen arrived) leave sixteen idle
     * connections for the next burst, where OkHttp's default pool would keep five and reconnect the rest.
     */
    @Test
    void aBurstOfPagesInFlightKeepsItsConnectionsForTheNextBurst() throws Exception {
        int inFlight = 16;
        OkHttpClient client = HttpClients.create(10_000);
        CountDownLatch allArrived = new CountDownLatch(inFlight);
        ExecutorService callers = Executors.newFixedThreadPool(inFlight);
        try (MockWebServer server = new MockWebServer()) {
            server.setDispatcher(new Dispatcher() {
                @Override
                public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
                    allArrived.countDown();
                    allArrived.await(10, TimeUnit.SECONDS);
                    return new MockResponse(200, okhttp3.Headers.of(), "{}");
                }
            });
            server.start();
            Request request = new Request.Builder().url(server.url("/hook")).build();
            List<Future<Integer>> calls = new ArrayList<>();
            for (int i = 0; i < inFlight; i++) {
                calls.add(callers.submit(() -> {
                    try (Response response = client.newCall(request).execute()) {
                        return response.code();
                    }
                }));
            }
            for (Future<Integer> call : calls) {
                assertThat(call.get(20, TimeUnit.SECONDS)).isEqualTo(200);
            }
            assertThat(allArrived.getCount()).as("the calls were in flight together").isZero();
            assertThat(client.connectionPool().idleConnectionCount()).isEqualTo(inFlight);
        } finally {
            callers.shutdownNow();
            HttpClients.close(client);
        }
    }
}
