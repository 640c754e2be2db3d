package io.streamrank.shared;

/**
 * Redis could not be reached, or did not answer within the endpoint's timeout. Always carries
 * the server's address and the timeout, so the message alone says what failed. Nothing was
 * applied when a write raises it before the server acknowledged (see each method).
 */
public final class SharedUnavailableException extends RuntimeException {
    public SharedUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
