FROM golang:1.26
RUN go build -o /app .
USER 65532
HEALTHCHECK CMD ["/app", "probe", "live"]
