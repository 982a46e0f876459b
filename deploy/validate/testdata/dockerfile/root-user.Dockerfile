FROM golang:1.26 AS build
RUN go build -o /out/app .

FROM debian:bookworm-slim
COPY --from=build /out/app /app
USER nonroot
HEALTHCHECK CMD ["/app", "probe", "live"]
USER root
