package io.streamrank.leaderboard;

import java.nio.file.FileSystemException;
import java.nio.file.Path;

/**
 * A snapshot path names a directory, FIFO, socket or device. Public so the Python facade can
 * tell a directory ({@code IsADirectoryError}) from the other kinds ({@code OSError}).
 */
public final class NotARegularFileException extends FileSystemException {
    private static final long serialVersionUID = 1L;
    private final boolean directory;

    NotARegularFileException(Path file, String message, boolean directory) {
        super(file.toString(), null, message);
        this.directory = directory;
    }

    public boolean isDirectory() {
        return directory;
    }

    @Override
    public String getMessage() {
        return getReason(); // the reason already names the file
    }
}
