package io.github.cohortsync.connect.http;

import java.time.Duration;

import okhttp3.OkHttpClient;

/** Builds the task's HTTP client. */
public final class HttpClients {
    private HttpClients() {
    }

    public static OkHttpClient create(int timeoutMs) {
        Duration timeout = Duration.ofMillis(timeoutMs);
        return new OkHttpClient.Builder()
                .connectTimeout(timeout)
                .readTimeout(timeout)
                .writeTimeout(timeout)
                // Retries are the retry policy's alone, so that they are counted and backed off.
                .retryOnConnectionFailure(false)
                .build();
    }
}
